from django.apps import AppConfig


class FrameworkConfig(AppConfig):
    name = "bench.framework"
    label = "framework"
