"""The words the demo is made of: places, products, and what customers and agents write.

Texts are templates filled with the customer's own facts (their asset's spring
size, their order number, the technician's name), so a search finds common
words in thousands of cases and rare ones (a serial, an error code, an odd
detail) in a handful. Brands and domains are invented; email domains use the
reserved `.example` top-level domain so no demo address can reach a real
mailbox.
"""

from __future__ import annotations

from dataclasses import dataclass

# (city, state, ZIP prefix, latitude, longitude, IANA time zone)
CITIES: tuple[tuple[str, str, str, float, float, str], ...] = (
    ("Portland", "OR", "972", 45.5152, -122.6784, "America/Los_Angeles"),
    ("Seattle", "WA", "981", 47.6062, -122.3321, "America/Los_Angeles"),
    ("Spokane", "WA", "992", 47.6588, -117.4260, "America/Los_Angeles"),
    ("Sacramento", "CA", "958", 38.5816, -121.4944, "America/Los_Angeles"),
    ("San Diego", "CA", "921", 32.7157, -117.1611, "America/Los_Angeles"),
    ("Fresno", "CA", "937", 36.7378, -119.7871, "America/Los_Angeles"),
    ("Boise", "ID", "837", 43.6150, -116.2023, "America/Boise"),
    ("Salt Lake City", "UT", "841", 40.7608, -111.8910, "America/Denver"),
    ("Denver", "CO", "802", 39.7392, -104.9903, "America/Denver"),
    ("Colorado Springs", "CO", "809", 38.8339, -104.8214, "America/Denver"),
    ("Albuquerque", "NM", "871", 35.0844, -106.6504, "America/Denver"),
    ("Phoenix", "AZ", "850", 33.4484, -112.0740, "America/Phoenix"),
    ("Tucson", "AZ", "857", 32.2226, -110.9747, "America/Phoenix"),
    ("Austin", "TX", "787", 30.2672, -97.7431, "America/Chicago"),
    ("Dallas", "TX", "752", 32.7767, -96.7970, "America/Chicago"),
    ("San Antonio", "TX", "782", 29.4241, -98.4936, "America/Chicago"),
    ("Tulsa", "OK", "741", 36.1540, -95.9928, "America/Chicago"),
    ("Kansas City", "MO", "641", 39.0997, -94.5786, "America/Chicago"),
    ("Minneapolis", "MN", "554", 44.9778, -93.2650, "America/Chicago"),
    ("Madison", "WI", "537", 43.0731, -89.4012, "America/Chicago"),
    ("Chicago", "IL", "606", 41.8781, -87.6298, "America/Chicago"),
    ("Nashville", "TN", "372", 36.1627, -86.7816, "America/Chicago"),
    ("Columbus", "OH", "432", 39.9612, -82.9988, "America/New_York"),
    ("Pittsburgh", "PA", "152", 40.4406, -79.9959, "America/New_York"),
    ("Raleigh", "NC", "276", 35.7796, -78.6382, "America/New_York"),
    ("Richmond", "VA", "232", 37.5407, -77.4360, "America/New_York"),
    ("Atlanta", "GA", "303", 33.7490, -84.3880, "America/New_York"),
    ("Tampa", "FL", "336", 27.9506, -82.4572, "America/New_York"),
    ("Buffalo", "NY", "142", 42.8864, -78.8784, "America/New_York"),
    ("Hartford", "CT", "061", 41.7658, -72.6734, "America/New_York"),
    ("Portland", "ME", "041", 43.6591, -70.2568, "America/New_York"),
    ("Burlington", "VT", "054", 44.4759, -73.2121, "America/New_York"),
)

# area codes used for the demo's (well-formed, E.164) phone numbers
AREA_CODES: tuple[str, ...] = (
    "503", "206", "509", "916", "619", "559", "208", "801", "303", "719", "505", "602", "520", "512", "214",
    "210", "918", "816", "612", "608", "312", "615", "614", "412", "919", "804", "404", "813", "716", "860",
    "207", "802", "971", "425", "360", "408", "415", "720", "480", "737", "469", "651", "773", "629", "380",
    "267", "984", "470", "727", "585",
)  # fmt: skip

PERSONAL_DOMAINS: tuple[str, ...] = (
    "mailbox.example", "inbox.example", "post.example", "homemail.example", "letters.example", "fastmail.example",
)  # fmt: skip

ORGANIZATION_STEMS: tuple[str, ...] = (
    "Harbor", "Cedar", "Summit", "Riverbend", "Maple", "Granite", "Lakeside", "Bluebird", "Ironwood", "Prairie",
    "Northstar", "Willow", "Copper", "Redfern", "Oakridge", "Highland", "Silverline", "Juniper", "Beacon", "Foxglove",
)  # fmt: skip
ORGANIZATION_KINDS: tuple[tuple[str, str], ...] = (
    ("Property Management", "apartment building"),
    ("Dental Care", "clinic"),
    ("Bakery", "bakery"),
    ("Bistro", "restaurant"),
    ("Fitness", "gym"),
    ("Elementary School", "school"),
    ("Realty", "office"),
    ("Veterinary Clinic", "clinic"),
    ("Hotel", "hotel"),
    ("Coffee Roasters", "café"),
    ("Self Storage", "storage facility"),
    ("Family Practice", "clinic"),
)

PARTNERS: tuple[tuple[str, str, str], ...] = (
    ("Swift Freight", "swiftfreight.example", "Carrier for parts and appliance deliveries."),
    ("HomeFix Installers", "homefix.example", "Installs garage doors and water heaters for us in the Northwest."),
    ("CallPoint Outsourcing", "callpoint.example", "Answers overflow phone calls evenings and weekends."),
)


@dataclass(frozen=True, slots=True)
class AssetKind:
    """A kind of product we install and service, and the facts a technician needs about it."""

    key: str
    name: str
    brands: tuple[str, ...]
    model_prefix: str
    serial_prefix: str
    warranty_years: int
    # attribute name -> choices; the first attribute is the one customers quote
    attributes: tuple[tuple[str, tuple[str | int, ...]], ...]
    commercial: bool = False


ASSET_KINDS: tuple[AssetKind, ...] = (
    AssetKind("garage_door", "garage door", ("Northgate", "Liftmaster Pro", "Overhill"), "GD", "NG", 5,
              (("spring_size", ("0.207 x 1.75 x 28in", "0.218 x 2 x 30in", "0.225 x 2 x 32in", "0.243 x 2 x 32in",
                                "0.250 x 2 x 34in", "0.262 x 2 x 36in")),
               ("door_width_ft", (8, 9, 16, 18)), ("opener", ("chain drive", "belt drive", "wall mount")))),
    AssetKind("furnace", "furnace", ("Ameritherm", "Boreal", "Heatwell"), "FX", "AT", 10,
              (("filter_size", ("16x25x1", "20x25x1", "16x20x1", "20x20x4", "16x25x5")),
               ("fuel", ("natural gas", "propane", "electric")), ("btu", (60000, 80000, 100000, 120000)))),
    AssetKind("water_heater", "water heater", ("Aquaflow", "Thermaline", "Bradwell"), "WH", "AQ", 6,
              (("capacity_gal", (40, 50, 66, 80)), ("fuel", ("natural gas", "electric", "heat pump")),
               ("anode", ("magnesium", "aluminium")))),
    AssetKind("dishwasher", "dishwasher", ("Kelvin", "Norrland", "Stellan"), "DW", "KV", 2,
              (("model_year", (2017, 2018, 2019, 2020, 2021, 2022, 2023)),
               ("colour", ("stainless", "white", "black")))),
    AssetKind("router", "router", ("Netmoor", "Skylink", "Relaywave"), "RT", "NM", 2,
              (("firmware", ("3.9.2", "4.1.0", "4.2.1", "4.2.7", "5.0.3")), ("wan", ("fiber", "cable", "DSL")))),
    AssetKind("air_conditioner", "air conditioner", ("Coolbreeze", "Polaris Air", "Frostline"), "AC", "CB", 5,
              (("tonnage", ("2 ton", "2.5 ton", "3 ton", "4 ton")), ("refrigerant", ("R-410A", "R-32", "R-454B")))),
    AssetKind("washer", "washing machine", ("Kelvin", "Norrland", "Laundra"), "WM", "LD", 2,
              (("capacity_cuft", ("4.5", "5.0", "5.3")), ("loading", ("front load", "top load")))),
    AssetKind("rooftop_unit", "rooftop HVAC unit", ("Ameritherm", "Boreal Commercial"), "RTU", "BC", 5,
              (("tonnage", ("5 ton", "7.5 ton", "10 ton", "12.5 ton")), ("filter_size", ("20x25x2", "24x24x2"))),
              commercial=True),
    AssetKind("ice_machine", "ice machine", ("Glacier", "Polarcube"), "IM", "GL", 3,
              (("output_lb_day", (250, 400, 600)), ("filter", ("carbon block", "phosphate"))), commercial=True),
    AssetKind("walk_in_cooler", "walk-in cooler", ("Frostline", "Coldvault"), "WC", "CV", 5,
              (("setpoint_f", (35, 36, 38)), ("compressor", ("scroll", "reciprocating"))), commercial=True),
)  # fmt: skip

RESIDENTIAL_KINDS = tuple(k for k in ASSET_KINDS if not k.commercial)
COMMERCIAL_KINDS = tuple(k for k in ASSET_KINDS if k.commercial) + tuple(
    k for k in ASSET_KINDS if k.key in {"router", "water_heater"}
)

# products we sell: (sku, description, unit price)
PRODUCTS: tuple[tuple[str, str, str], ...] = (
    ("FLT-16251", "Pleated furnace filter 16x25x1, 6-pack", "54.00"),
    ("FLT-20254", "Media filter 20x20x4", "39.50"),
    ("SPR-0243", "Torsion spring pair 0.243 x 2 x 32in", "129.00"),
    ("SPR-0250", "Torsion spring pair 0.250 x 2 x 34in", "139.00"),
    ("RLR-NYL10", "Nylon garage door rollers, set of 10", "46.00"),
    ("ANO-MG44", "Magnesium anode rod 44in", "38.75"),
    ("THM-WIFI2", "Wi-Fi thermostat", "149.00"),
    ("SVC-TUNE", "Seasonal tune-up visit", "119.00"),
    ("SVC-CALL", "Service call, first hour", "95.00"),
    ("WTY-EXT3", "Extended warranty, 3 years", "189.00"),
    ("PLN-CARE", "Home Care plan, yearly", "240.00"),
    ("DW-PUMP", "Dishwasher drain pump", "72.00"),
    ("RT-MESH3", "Mesh Wi-Fi extender, 3-pack", "219.00"),
    ("HOS-SS6", "Stainless washer hoses 6ft, pair", "24.00"),
    ("ICE-FLT", "Ice machine water filter", "64.00"),
)

TEAMS: tuple[tuple[str, str], ...] = (
    ("Front line", "First answer on every channel; account and portal questions."),
    ("Billing", "Invoices, payments, refunds and plans."),
    ("Field service", "Repairs, maintenance visits and the technicians' schedule."),
    ("Returns", "Deliveries, wrong or damaged parts, returns and exchanges."),
)

# (username, display name, role value, team names, is lead)
STAFF: tuple[tuple[str, str, str, tuple[str, ...], bool], ...] = (
    ("admin", "Ada Admin", "admin", (), False),
    ("maria", "Maria Okafor", "manager", ("Front line", "Billing", "Field service", "Returns"), True),
    ("alice", "Alice Nguyen", "agent", ("Front line",), False),
    ("bob", "Bob Lindqvist", "agent", ("Front line", "Returns"), False),
    ("carol", "Carol Mendes", "agent", ("Billing",), False),
    ("dave", "Dave Kowalski", "agent", ("Billing", "Front line"), False),
    ("erin", "Erin Walsh", "agent", ("Field service",), False),
    ("frank", "Frank Adeyemi", "agent", ("Returns",), False),
    ("grace", "Grace Park", "agent", ("Front line",), False),
    ("tom", "Tom Brennan", "technician", ("Field service",), False),
    ("tina", "Tina Morales", "technician", ("Field service",), False),
    ("paula", "Paula Svensson", "product_owner", (), False),
)
CUSTOMER_USERNAME = "carla"
CUSTOMER_NAME = "Carla Jensen"
CUSTOMER_EMAIL = "carla.jensen@mailbox.example"
CUSTOMER_PHONE = "+15035550142"

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
WINDOWS = ("8-10am", "10am-noon", "noon-2pm", "2-4pm", "4-6pm")
ERROR_CODES = ("E24", "E15", "F1", "F3", "H2", "LE", "OE", "dE", "Er 07", "C 14")
PARTS = (
    "rollers", "cable drum", "pilot assembly", "thermocouple", "drain pump", "door gasket", "anode rod", "igniter",
    "flame sensor", "capacitor", "limit switch", "float valve", "inlet valve", "mesh extender",
)  # fmt: skip
# details that make some messages findable by a word nobody else uses
RARE_DETAILS = (
    "The dog hides under the stairs whenever it starts.",
    "My neighbour's labradoodle barks at the grinding noise.",
    "We have a newborn at home, so this is urgent for us.",
    "It started right after the power outage on the weekend.",
    "There is a faint smell like burnt popcorn near it.",
    "A squirrel may have got into the attic last month.",
    "The gate code is 4471 if nobody answers the door.",
    "We are hosting Thanksgiving for fourteen people.",
    "Our tenant works nights, so please avoid mornings.",
    "The previous owner left the manual in the crawlspace.",
    "It makes a whistling sound like a kettle.",
    "There is a puddle shaped like Florida under it.",
    "My grandmother lives with us and needs the heat on.",
    "The breaker tripped twice this week.",
    "I found a rusty bolt on the floor next to it.",
    "The display shows a little snowflake icon blinking.",
    "This happened before in March and you fixed it then.",
    "We leave for a sabbatical in Lisbon next month.",
    "The contractor renovating our kitchen may have bumped it.",
    "My son recorded a video of it; I can send it.",
)
SIGN_OFFS = ("Thanks,", "Thank you,", "Best,", "Regards,", "Cheers,", "Many thanks,", "Kind regards,")
GREETINGS = ("Hi,", "Hello,", "Hi there,", "Good morning,", "Hello team,", "Hi support,")
TAGS_BY_TEAM: dict[str, tuple[str, ...]] = {
    "Front line": ("portal", "account", "feedback", "praise", "suggestion"),
    "Billing": ("invoice", "refund", "payment", "plan", "overcharge"),
    "Field service": ("repair", "maintenance", "warranty", "urgent", "parts"),
    "Returns": ("delivery", "return", "exchange", "damaged", "carrier"),
}


@dataclass(frozen=True, slots=True)
class Topic:
    """What a case is about, and how the people in it write about it.

    Templates are `str.format` strings over the slots the loader fills:
    first, asset, brand, model, serial, spec, order, invoice, amount, weekday,
    window, tech, agent, code, part, street, city, days.
    """

    key: str
    team: str
    weight: int
    subjects: tuple[str, ...]
    openings: tuple[str, ...]
    replies: tuple[str, ...]
    asset_kinds: tuple[str, ...] = ()  # the case is about one of these at the customer's site
    followups: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    urgent_share: float = 0.05
    partner: str = ""  # a partner that works such cases on our behalf


TOPICS: tuple[Topic, ...] = (
    Topic(
        "garage_spring",
        "Field service",
        9,
        (
            "Garage door spring snapped",
            "Garage door won't open - loud bang from the spring",
            "Broken torsion spring on {brand} door",
            "Spring broke, car stuck in garage",
        ),
        (
            "Last night we heard a loud bang from the garage and now the door will not lift. The spring above the "
            "door is in two pieces.",
            "The garage door spring on our {brand} door broke this morning. The label says "
            "{spec}. Can you send someone?",
            "Our garage door only opens a few inches and the opener strains. I think a spring is broken.",
        ),
        (
            "Hi {first}, sorry about the door. I've booked {tech} for {weekday}, {window}. The door's record shows it "
            "takes {spec} springs, so {tech} will bring a matched pair and new cables.",
            "Thanks {first}. Please don't try to lift the door by hand. {tech} can be there {weekday} between {window} "
            "with {spec} springs from the van stock.",
        ),
        asset_kinds=("garage_door",),
        urgent_share=0.2,
        followups=(
            "Perfect, thank you. Will {tech} also check the rollers? They are noisy.",
            "Door works again, thanks! The new springs are much quieter.",
        ),
        notes=(
            "Spring size confirmed from the asset record: {spec}.",
            "Door installed {days} days after warranty ended; offered goodwill discount within my limit.",
        ),
    ),
    Topic(
        "garage_opener",
        "Field service",
        4,
        ("Opener clicks but the door doesn't move", "Garage remote stopped working", "{brand} opener light blinking"),
        (
            "The opener clicks when I press the button but the door does not move. The light blinks {code}.",
            "Neither remote opens the garage door since the power cut. The wall button still works.",
        ),
        (
            "Hi {first}, try holding the learn button for 6 seconds and pairing the remote again. If the light still "
            "blinks {code}, {tech} can come {weekday} {window}.",
        ),
        asset_kinds=("garage_door",),
    ),
    Topic(
        "furnace_no_heat",
        "Field service",
        8,
        (
            "No heat since last night",
            "Furnace not igniting",
            "{brand} furnace blowing cold air",
            "Heating broken - house is 58 degrees",
        ),
        (
            "Our furnace stopped heating last night. The fan runs but the air is cold and the display shows {code}.",
            "The furnace tries to start, clicks three times and gives up. We changed the {spec} filter last month.",
            "No heat at all this morning. The thermostat has new batteries.",
        ),
        (
            "Hi {first}, I'm sorry you're without heat. {tech} is booked for {weekday}, {window}, and will bring a "
            "{part} and a {spec} filter in case they're needed.",
            "Thanks {first}. An {code} code usually means the flame sensor needs cleaning; {tech} will do that "
            "{weekday} ({window}) and check the {part}.",
        ),
        asset_kinds=("furnace",),
        urgent_share=0.3,
        followups=("Heat is back on. Thank you {tech}, very friendly!", "It stopped again tonight with the same code."),
        notes=("Elderly resident: prioritised as urgent.", "Filter size on record: {spec}. Bring two."),
    ),
    Topic(
        "furnace_noise",
        "Field service",
        3,
        ("Furnace making a rattling noise", "Loud humming from the furnace", "Squealing furnace blower"),
        (
            "The furnace has started rattling when the blower comes on. It still heats.",
            "There's a squealing noise for the first minute every time the heat starts.",
        ),
        (
            "Hi {first}, a rattle at blower start is often a loose panel or a worn motor mount. {tech} can look on "
            "{weekday} {window}.",
        ),
        asset_kinds=("furnace",),
    ),
    Topic(
        "water_heater_leak",
        "Field service",
        5,
        ("Water heater leaking at the base", "Puddle under the water heater", "{brand} water heater dripping"),
        (
            "There is water pooling under our {brand} water heater. It's the {spec} model in the basement.",
            "The water heater is dripping from the valve on the side and the floor is wet.",
        ),
        (
            "Hi {first}, please turn off the water supply valve above the heater. {tech} will be there {weekday}, "
            "{window}. If the tank itself leaks, we'll quote a replacement on the spot.",
        ),
        asset_kinds=("water_heater",),
        urgent_share=0.35,
        followups=("Valve is off. Thanks for the quick help.",),
        notes=("Tank is 9 years old; likely replacement. Prepared quote for a {spec} unit.",),
        partner="HomeFix Installers",
    ),
    Topic(
        "water_heater_no_hot",
        "Field service",
        4,
        ("No hot water", "Hot water runs out after 5 minutes", "Water heater pilot keeps going out"),
        (
            "We have no hot water since yesterday evening. The pilot light seems to be out.",
            "Showers go cold after a few minutes. It's a {spec} tank, should be plenty for three people.",
        ),
        ("Hi {first}, that sounds like the {part}. {tech} can replace it {weekday} {window}.",),
        asset_kinds=("water_heater",),
    ),
    Topic(
        "dishwasher_error",
        "Field service",
        4,
        ("Dishwasher error {code}", "Dishwasher won't drain", "{brand} dishwasher shows {code} and stops"),
        (
            "Our {brand} dishwasher stops mid-cycle with error {code} and leaves water at the bottom.",
            "The dishwasher doesn't drain any more. We cleaned the filter already.",
        ),
        (
            "Hi {first}, {code} on this model points to the drain pump. It's still under warranty until the "
            "installation anniversary, so the repair is free. {tech} can come {weekday}, {window}.",
        ),
        asset_kinds=("dishwasher",),
    ),
    Topic(
        "router_outage",
        "Front line",
        6,
        (
            "Internet keeps dropping",
            "Wi-Fi disconnects every evening",
            "Router lights blinking orange",
            "No internet since this morning",
        ),
        (
            "Our internet drops every evening around 8pm. The router lights blink orange. Firmware says {spec}.",
            "Wi-Fi keeps disconnecting in the back rooms. Is there a fix?",
        ),
        (
            "Hi {first}, thanks for the details. Firmware {spec} has a known issue with evening drops; please restart "
            "the router after tonight's automatic update. If it happens again, we'll send a replacement.",
            "Hi {first}, I see the line is fine on our side. A mesh extender usually helps the back rooms; I can send "
            "one at no charge since this is your second report.",
        ),
        asset_kinds=("router",),
        followups=("It's been stable for two days now, thanks!",),
    ),
    Topic(
        "ac_not_cooling",
        "Field service",
        4,
        ("AC not cooling", "Air conditioner blowing warm air", "AC unit frozen over"),
        (
            "The air conditioner runs but the house doesn't cool below 80. It's a {spec} unit.",
            "There's ice on the pipes of the outdoor AC unit.",
        ),
        (
            "Hi {first}, please switch the AC off so the ice can melt. {tech} will check the refrigerant on {weekday}, "
            "{window}.",
        ),
        asset_kinds=("air_conditioner",),
        urgent_share=0.2,
    ),
    Topic(
        "washer_leak",
        "Field service",
        2,
        ("Washing machine leaking", "Washer won't spin", "Washer shows {code}"),
        (
            "Our washer leaves water on the floor after each wash.",
            "The washing machine stops before the spin cycle and shows {code}.",
        ),
        (
            "Hi {first}, could you check the inlet hoses? If they're the original rubber ones, we can send stainless "
            "ones. Otherwise {tech} can come {weekday} {window}.",
        ),
        asset_kinds=("washer",),
    ),
    Topic(
        "maintenance_booking",
        "Field service",
        6,
        ("Book annual maintenance for my {asset}", "Tune-up before winter", "Service visit for the {asset}"),
        (
            "Could you book the yearly maintenance visit for our {asset}? Any weekday works.",
            "Time for the seasonal tune-up of the {asset}. Could {tech} do it again? {tech} was great last year.",
        ),
        ("Hi {first}, you're booked for {weekday}, {window} with {tech}. We'll text you 30 minutes before arrival.",),
        asset_kinds=("furnace", "air_conditioner", "garage_door", "water_heater"),
        urgent_share=0.0,
        followups=("Great, see you then.",),
    ),
    Topic(
        "warranty_claim",
        "Field service",
        3,
        ("Warranty claim for {asset} serial {serial}", "Is my {asset} still under warranty?"),
        ("Our {brand} {asset} (serial {serial}) has failed. We bought it with you; is this covered by the warranty?",),
        (
            "Hi {first}, I checked serial {serial}: it's covered. {tech} will repair it {weekday}, {window}, at no "
            "charge.",
            "Hi {first}, serial {serial} is {days} days past its warranty, but I've applied a goodwill "
            "discount of {amount} to the repair.",
        ),
        asset_kinds=tuple(k.key for k in RESIDENTIAL_KINDS),
        notes=("Warranty date checked on the asset record.",),
    ),
    Topic(
        "invoice_question",
        "Billing",
        6,
        ("Question about invoice {invoice}", "Invoice {invoice} looks wrong", "Can I get a copy of {invoice}?"),
        (
            "I don't understand the line 'service call' on invoice {invoice}. I thought the visit was covered.",
            "Could you send me a PDF copy of invoice {invoice} for my records?",
        ),
        (
            "Hi {first}, the service call on {invoice} was for the first hour; the repair itself was covered. I've "
            "attached an itemised copy.",
            "Hi {first}, here's the copy of {invoice}. Anything else I can help with?",
        ),
        followups=("Understood, thanks for explaining.",),
    ),
    Topic(
        "double_charge",
        "Billing",
        4,
        ("Charged twice for order {order}", "Double payment on my card", "Duplicate charge of {amount}"),
        ("My card statement shows two charges of {amount} for order {order}. Please refund one of them.",),
        (
            "Hi {first}, you're right, the payment went through twice. I've refunded {amount}; it shows on your card "
            "within 5 business days.",
        ),
        urgent_share=0.1,
        notes=("Duplicate confirmed with the payment provider; refund within my limit.",),
    ),
    Topic(
        "refund_status",
        "Billing",
        4,
        ("Where is my refund for {order}?", "Refund not received", "Refund for returned {part}"),
        ("You promised a refund for order {order} {days} days ago and I still don't see it.",),
        (
            "Hi {first}, sorry for the wait. The refund of {amount} for {order} left us on the 3rd; banks take up to "
            "5 days. I'll check back with you on {weekday} to make sure it arrived.",
        ),
        followups=("It arrived today. Thanks for checking.",),
    ),
    Topic(
        "payment_method",
        "Billing",
        3,
        ("Update card on file", "Change billing address", "Switch to yearly Home Care plan"),
        (
            "My card expires this month. How do I update it for the Home Care plan?",
            "Can I switch from monthly to the yearly Home Care plan?",
        ),
        (
            "Hi {first}, you can update the card under Billing in the portal, or reply here and I'll send a secure "
            "link.",
            "Hi {first}, done: you're on the yearly plan from next month, which saves you {amount}.",
        ),
        urgent_share=0.0,
    ),
    Topic(
        "return_request",
        "Returns",
        4,
        ("Return request for order {order}", "I'd like to return the {part}", "Return label needed"),
        ("I ordered the wrong part in order {order}. Can I return it? It's unopened.",),
        (
            "Hi {first}, no problem. Here's a prepaid return label; the refund of {amount} follows once the parcel "
            "is scanned.",
        ),
        partner="Swift Freight",
    ),
    Topic(
        "wrong_item",
        "Returns",
        3,
        ("Wrong part delivered", "Received {part} instead of what I ordered", "Order {order}: wrong item"),
        ("Order {order} arrived today but the box contains {part} instead of what I ordered.",),
        (
            "Hi {first}, I'm sorry about the mix-up. The correct part ships today by express and the carrier collects "
            "the wrong one when delivering.",
        ),
        partner="Swift Freight",
        notes=("Warehouse picking error; reported to the warehouse lead.",),
    ),
    Topic(
        "delivery_late",
        "Returns",
        5,
        ("Delivery of {order} is late", "Where is my order {order}?", "Parcel stuck in transit"),
        ("Order {order} should have arrived on {weekday} and the tracking hasn't moved for {days} days.",),
        (
            "Hi {first}, I've checked with Swift Freight: the parcel was delayed at their depot and is out for "
            "delivery {weekday}. I'll follow up if it doesn't arrive.",
        ),
        partner="Swift Freight",
        followups=("Arrived this morning, thank you.", "Still nothing. This is frustrating."),
    ),
    Topic(
        "damaged_delivery",
        "Returns",
        2,
        ("Damaged delivery", "Box arrived crushed", "{part} broken on arrival"),
        ("The parcel for order {order} arrived crushed and the {part} inside is cracked.",),
        (
            "Hi {first}, sorry about that. A replacement ships today; please keep the damaged one for the carrier "
            "to collect.",
        ),
        partner="Swift Freight",
    ),
    Topic(
        "technician_reschedule",
        "Field service",
        4,
        ("Reschedule technician visit", "Can {tech} come another day?", "Need to move my appointment"),
        ("Something came up on {weekday}. Could we move the visit to another day?",),
        ("Hi {first}, no problem: you're now booked for {weekday}, {window}.",),
        urgent_share=0.0,
        followups=("Thanks, that's much better for us.",),
    ),
    Topic(
        "praise",
        "Front line",
        2,
        ("Thank you to {tech}!", "Great service today", "Compliment for your technician"),
        ("{tech} came today and was fantastic: on time, explained everything and cleaned up. Please pass it on.",),
        ("Hi {first}, thank you for taking the time to write! I've passed your words to {tech} and their manager.",),
        urgent_share=0.0,
    ),
    Topic(
        "account_access",
        "Front line",
        4,
        ("Can't log in to the portal", "Password reset email never arrives", "Locked out of my account"),
        ("I try to reset my password but the email never arrives. I checked the spam folder.",),
        (
            "Hi {first}, I've resent the reset link. It's valid for 30 minutes.",
            "Hi {first}, your account had an old email address; I've updated it and sent a new link.",
        ),
        urgent_share=0.0,
    ),
    Topic(
        "new_owner",
        "Front line",
        2,
        ("We just bought the house at {street}", "New owner - service history?", "Moved in, what equipment is here?"),
        (
            "We bought the house at {street}, {city}. Do you have the service history of the {asset}? The seller "
            "mentioned you looked after it.",
        ),
        (
            "Welcome, {first}! The {asset} at {street} has its full history with us, and it takes {spec}. I've added "
            "you as the owner.",
        ),
        asset_kinds=tuple(k.key for k in RESIDENTIAL_KINDS),
        urgent_share=0.0,
    ),
    Topic(
        "suggestion",
        "Front line",
        1,
        ("Suggestion: text before the technician arrives", "Idea for the portal", "Feature request: visit reminders"),
        (
            "It would help if the technician texted 30 minutes before arriving; I work from home and take calls.",
            "Could the portal show when my filters are due for replacement?",
        ),
        ("Hi {first}, thanks for the idea. I've logged it with our product team and will let you know if it ships.",),
        urgent_share=0.0,
    ),
    Topic(
        "commercial_cooling",
        "Field service",
        3,
        ("Walk-in cooler temperature alarm", "Ice machine not making ice", "Rooftop unit down - store too warm"),
        (
            "The {asset} at our location has an alarm and the temperature is rising. We have stock inside.",
            "Our {brand} {asset} stopped producing. Serial {serial}. We need it for tonight's service.",
        ),
        ("Hi {first}, {tech} is on the way and should be there within 3 hours. Please keep the door closed.",),
        asset_kinds=("walk_in_cooler", "ice_machine", "rooftop_unit"),
        urgent_share=0.6,
        notes=("Commercial SLA: 4-hour response.",),
    ),
)
SOLVE_REPLIES = (
    "Glad that's sorted, {first}. I'll mark this solved; just reply if anything comes back.",
    "Thanks {first}. Marking this as solved. We'll check in next week to make sure it held.",
    "All done on our side, {first}. Have a good {weekday}!",
)
PENDING_REPLIES = (
    "Hi {first}, could you send a photo of the label on the {asset}? Then I can order the right part.",
    "Hi {first}, which day suits you best for the visit?",
    "Hi {first}, could you confirm the order number so I can look it up?",
)
FOLLOWUPS = (
    "Thanks for the quick answer. {weekday} works for us.",
    "Sorry, one more question: will this be covered?",
    "Could someone call me instead? Email is hard this week.",
    "Got it, thank you {agent}!",
)
NOTES = (
    "Customer prefers calls after 5pm.",
    "Checked the history: similar issue handled last year.",
    "Waived the call-out fee within my authority; reason: second visit for the same fault.",
    "Asked the customer for a photo of the label to confirm the serial.",
    "Spoke with {tech}: can fit this in on {weekday}.",
    "Customer was upset on the phone; offered a call-back tomorrow morning.",
)
