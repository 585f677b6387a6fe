from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.views.generic import RedirectView

from caseloop.web.views import auth, case, custom_fields, inbox, lookup, macros, merge, new_case, records, search, team

app_name = "web"

_reset = "web/password_reset"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="web:inbox", query_string=False), name="home"),
    # signing in and out, password reset by email link
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("password-reset/", auth_views.PasswordResetView.as_view(
        template_name=f"{_reset}.html", email_template_name="web/email/password_reset.txt",
        subject_template_name="web/email/password_reset_subject.txt",
        success_url=reverse_lazy("web:password_reset_done")), name="password_reset"),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(template_name=f"{_reset}_done.html"),
         name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name=f"{_reset}_confirm.html", success_url=reverse_lazy("web:password_reset_complete")),
        name="password_reset_confirm"),
    path("password-reset/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name=f"{_reset}_complete.html"), name="password_reset_complete"),
    # the inbox
    path("inbox/", inbox.inbox, name="inbox"),
    path("inbox/bulk/", inbox.bulk, name="bulk"),
    path("inbox/views/", inbox.save_inbox_view, name="save_view"),
    path("inbox/views/<int:view_id>/delete/", inbox.delete_inbox_view, name="delete_view"),
    # a new case, opened by a rep for a customer
    path("cases/new/", new_case.new_case, name="new_case"),
    path("cases/new/requester/", new_case.requester_things, name="new_case_requester"),
    # a case
    path("cases/<int:case_id>/", case.case_detail, name="case"),
    path("cases/<int:case_id>/messages/", case.post_message, name="post_message"),
    path("cases/<int:case_id>/edit/", case.edit_case, name="edit_case"),
    path("cases/<int:case_id>/fields/", case.case_fields, name="case_fields"),
    path("cases/<int:case_id>/timeline/", case.case_timeline, name="case_timeline"),
    path("cases/<int:case_id>/presence/", case.presence, name="presence"),
    path("cases/<int:case_id>/presence/leave/", case.leave, name="leave"),
    path("cases/<int:case_id>/macro/", case.macro_fill, name="macro_fill"),
    path("attachments/<int:link_id>/", case.attachment, name="attachment"),
    # customers and what they own
    path("contacts/<int:contact_id>/", records.contact_detail, name="contact"),
    path("contacts/<int:contact_id>/merge/", merge.merge_contact, name="merge_contact"),
    path("contacts/lookup/", lookup.contact_lookup, name="contact_lookup"),
    path("organizations/<int:organization_id>/", records.organization_detail, name="organization"),
    path("sites/<int:site_id>/", records.site_detail, name="site"),
    path("assets/<int:asset_id>/", records.asset_detail, name="asset"),
    # search, team overview, canned replies
    path("search/", search.search, name="search"),
    path("team/", team.team_overview, name="team"),
    path("macros/", macros.macro_list, name="macros"),
    path("macros/<int:macro_id>/delete/", macros.macro_delete, name="macro_delete"),
    # what every case carries besides its own fields
    path("custom-fields/", custom_fields.custom_field_list, name="custom_fields"),
]  # fmt: skip
