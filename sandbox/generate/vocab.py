"""Word pools and picklists the generator draws from."""

from __future__ import annotations

#: country code -> (Salesforce BillingCountry, currency, time zone, domain endings, legal suffixes, cities)
COUNTRIES: dict[str, tuple[str, str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "US": ("United States", "USD", "America/New_York", (".com", ".com", ".com", ".io", ".co", ".ai"),
           ("Inc", "Inc.", "LLC", "Corp.", "Corporation", "Co."),
           ("New York", "San Francisco", "Austin", "Chicago", "Boston", "Seattle", "Denver", "Atlanta")),
    "GB": ("United Kingdom", "GBP", "Europe/London", (".co.uk", ".co.uk", ".com", ".io"),
           ("Ltd", "Ltd.", "Limited", "PLC"),
           ("London", "Manchester", "Bristol", "Edinburgh", "Leeds", "Cambridge")),
    "DE": ("Germany", "EUR", "Europe/Berlin", (".de", ".de", ".com", ".io"),
           ("GmbH", "AG", "GmbH & Co. KG", "SE"),
           ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Düsseldorf")),
    "FR": ("France", "EUR", "Europe/Paris", (".fr", ".fr", ".com", ".io"),
           ("SAS", "SA", "SARL"),
           ("Paris", "Lyon", "Toulouse", "Nantes", "Bordeaux", "Lille")),
    "NL": ("Netherlands", "EUR", "Europe/Amsterdam", (".nl", ".com", ".io"),
           ("B.V.", "N.V."), ("Amsterdam", "Rotterdam", "Utrecht", "Eindhoven")),
    "ES": ("Spain", "EUR", "Europe/Madrid", (".es", ".com"),
           ("S.L.", "S.A."), ("Madrid", "Barcelona", "Valencia", "Sevilla")),
    "CA": ("Canada", "USD", "America/Toronto", (".ca", ".com", ".io"),
           ("Inc.", "Ltd."), ("Toronto", "Montréal", "Vancouver", "Ottawa")),
    "AU": ("Australia", "USD", "Australia/Sydney", (".com.au", ".com", ".io"),
           ("Pty Ltd",), ("Sydney", "Melbourne", "Brisbane", "Perth")),
}

#: (country code, weight)
COUNTRY_WEIGHTS = (("US", 42), ("GB", 16), ("DE", 14), ("FR", 11), ("NL", 5), ("ES", 4), ("CA", 5), ("AU", 3))

NAME_HEADS = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Birch", "Blue", "Bright", "Cedar", "Cobalt",
    "Coral", "Crest", "Crimson", "Delta", "Eagle", "Echo", "Ember", "Evergreen", "Falcon", "Fern",
    "Fjord", "Forge", "Galaxy", "Granite", "Harbor", "Helix", "Horizon", "Indigo", "Iron", "Jade",
    "Juniper", "Keystone", "Kite", "Lumen", "Lynx", "Maple", "Meridian", "Mosaic", "Nimbus", "Noble",
    "North", "Nova", "Oak", "Onyx", "Orbit", "Orion", "Pacific", "Peak", "Pine", "Pioneer",
    "Pixel", "Polar", "Prism", "Quantum", "Quartz", "Radiant", "Raven", "Redwood", "Ridge", "River",
    "Rocket", "Sable", "Sage", "Sierra", "Silver", "Slate", "Solar", "Spark", "Spruce", "Stellar",
    "Stone", "Summit", "Swift", "Terra", "Thunder", "Tidal", "Titan", "Trail", "True", "Union",
    "Vantage", "Vector", "Velvet", "Verde", "Vertex", "Vista", "Wave", "West", "Willow", "Zenith",
    "Amber", "Arrow", "Bold", "Canyon", "Cloud", "Copper", "Cypress", "Dawn", "Dune", "Elm",
    "Flint", "Fox", "Glacier", "Golden", "Hawk", "Hudson", "Ivory", "Lake", "Lark", "Linden",
    "Marble", "Mesa", "Moss", "Neon", "Oasis", "Opal", "Pebble", "Pilot", "Plum", "Quill",
    "Rapid", "Reef", "Rowan", "Saffron", "Shore", "Sky", "Sterling", "Storm", "Sun", "Tango",
)

NAME_HEADS_LOCAL = {
    "DE": ("Müller", "Schäfer", "Bäcker", "Größer", "Weiß", "Köhler", "Jäger", "Förster", "Brückner", "Lübeck",
           "Nord", "Alpen", "Rhein", "Sonnen", "Stahl", "Grün"),
    "FR": ("Étoile", "Lumière", "Hélios", "Cité", "Rivière", "Forêt", "Océan", "Château", "Éclat", "Béton",
           "Azur", "Mistral", "Soleil", "Vallée", "Orée", "Pléiade"),
    "ES": ("Peña", "Río", "Montaña", "Olivo", "Sol", "Estrella"),
}

NAME_TAILS = (
    "Analytics", "Systems", "Logistics", "Foods", "Labs", "Health", "Works", "Dynamics", "Partners",
    "Software", "Robotics", "Energy", "Capital", "Media", "Networks", "Solutions", "Technologies",
    "Consulting", "Holdings", "Industries", "Bio", "Pharma", "Security", "Cloud", "Data", "Digital",
    "Retail", "Motors", "Aerospace", "Materials", "Studios", "Ventures", "Insurance", "Finance",
    "Payments", "Learning", "Travel", "Logic", "Metrics", "Devices", "Mobility", "Telecom",
    "Textiles", "Farms", "Brewing", "Clinics", "Interactive", "Instruments", "Marine", "Outdoor",
)

NAME_TAILS_LOCAL = {
    "DE": ("Logistik", "Maschinenbau", "Technik", "Versicherungen", "Software", "Bau", "Werke", "Systeme"),
    "FR": ("Conseil", "Énergie", "Systèmes", "Données", "Logistique", "Santé", "Ingénierie", "Médias"),
    "ES": ("Soluciones", "Energía", "Logística", "Tecnología"),
}

#: (Salesforce Industry picklist value, HubSpot industry internal value)
INDUSTRIES = (
    ("Technology", "COMPUTER_SOFTWARE"), ("Technology", "INFORMATION_TECHNOLOGY_AND_SERVICES"),
    ("Finance", "FINANCIAL_SERVICES"), ("Banking", "BANKING"), ("Insurance", "INSURANCE"),
    ("Healthcare", "HOSPITAL_HEALTH_CARE"), ("Biotechnology", "BIOTECHNOLOGY"),
    ("Manufacturing", "MACHINERY"), ("Manufacturing", "INDUSTRIAL_AUTOMATION"), ("Retail", "RETAIL"),
    ("Consulting", "MANAGEMENT_CONSULTING"), ("Education", "E_LEARNING"), ("Media", "MEDIA_PRODUCTION"),
    ("Telecommunications", "TELECOMMUNICATIONS"), ("Transportation", "LOGISTICS_AND_SUPPLY_CHAIN"),
    ("Energy", "OIL_ENERGY"), ("Food & Beverage", "FOOD_BEVERAGES"), ("Hospitality", "HOSPITALITY"),
    ("Engineering", "MECHANICAL_OR_INDUSTRIAL_ENGINEERING"), ("Other", None),
)

FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
    "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
    "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark", "Sandra", "Steven", "Ashley",
    "Paul", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kevin", "Melissa", "Brian", "Stephanie",
    "George", "Rebecca", "Timothy", "Laura", "Ryan", "Emma", "Jacob", "Olivia", "Nicholas", "Sophia",
    "Oliver", "Amelia", "Harry", "Isla", "Jack", "Ava", "Charlie", "Grace", "Noah", "Chloe",
    "Lukas", "Anna", "Jonas", "Lea", "Felix", "Hannah", "Maximilian", "Mia", "Paul", "Lena",
    "Jürgen", "Jörg", "Björn", "Sören", "Käthe", "Gülay", "Hans", "Ute", "Klaus", "Birgit",
    "Lucas", "Camille", "Hugo", "Léa", "Théo", "Chloé", "Louis", "Manon", "Raphaël", "Inès",
    "François", "Hélène", "Jérôme", "Céline", "Noël", "Zoë", "Anaïs", "Stéphane", "Amélie", "Benoît",
    "José", "María", "Javier", "Lucía", "Sergio", "Marta", "Ángel", "Sofía", "Daan", "Sanne",
    "Priya", "Arjun", "Wei", "Mei", "Hiroshi", "Yuki", "Min-jun", "Ji-woo", "Ahmed", "Fatima",
    "Olusegun", "Chiamaka", "Kwame", "Ama", "Mateo", "Valentina", "Liam", "Aoife", "Siobhan", "Declan",
    "Ethan", "Madison", "Logan", "Avery", "Mason", "Harper", "Elijah", "Evelyn", "Aiden", "Abigail",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
    "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
    "Evans", "Turner", "Parker", "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers",
    "O'Brien", "O'Connor", "McDonald", "MacLeod", "Fitzgerald", "Kelly", "Walsh", "Byrne", "Ryan", "Doyle",
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Krause", "Köhler", "Weiß",
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
    "Simon", "Laurent", "Lefèvre", "Michel", "Garnier", "Faure", "André", "Mercier", "Blanc", "Guérin",
    "Boyer", "Chevalier", "François", "Gauthier", "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Hénault",
    "García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Muñoz",
    "de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer",
    "Patel", "Shah", "Singh", "Kumar", "Gupta", "Chen", "Wang", "Li", "Zhang", "Liu",
    "Kim", "Park", "Choi", "Tanaka", "Suzuki", "Sato", "Okafor", "Mensah", "Adeyemi", "Haddad",
    "Nowak", "Kowalski", "Wiśniewski", "Novák", "Horváth", "Nielsen", "Hansen", "Johansson", "Lindqvist", "Åberg",
)

TITLES = (
    "CEO", "CFO", "CTO", "COO", "VP Sales", "VP Marketing", "VP Engineering", "Head of Data",
    "Director of Operations", "Director of IT", "Marketing Manager", "Sales Manager", "Account Executive",
    "Data Engineer", "Data Analyst", "Analytics Engineer", "Software Engineer", "Product Manager",
    "Procurement Manager", "Office Manager", "RevOps Manager", "Marketing Operations Manager",
    "Head of Growth", "Business Analyst", "IT Manager", "Finance Manager", "Controller",
    "Demand Generation Manager", "Customer Success Manager", "Founder", "Managing Director",
    "Geschäftsführer", "Directeur Commercial", "Responsable Marketing", "Leiter Vertrieb", None,
)

FREE_MAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "outlook.com", "yahoo.com", "hotmail.com")

ROLE_INBOXES = ("info", "sales", "contact", "hello", "office", "support")

#: HubSpot contact lifecycle stages, in funnel order.
LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer",
    "evangelist", "other",
)

HS_LEAD_STATUSES = ("NEW", "OPEN", "IN_PROGRESS", "ATTEMPTED_TO_CONTACT", "CONNECTED", "OPEN_DEAL",
                    "UNQUALIFIED", "BAD_TIMING")

#: (HubSpot hs_analytics_source, Salesforce LeadSource, weight)
CHANNELS = (
    ("ORGANIC_SEARCH", "Web", 22), ("PAID_SEARCH", "Paid Search", 14), ("PAID_SOCIAL", "Paid Social", 12),
    ("EMAIL_MARKETING", "Email", 9), ("DIRECT_TRAFFIC", "Web", 12), ("REFERRALS", "Partner Referral", 8),
    ("SOCIAL_MEDIA", "Social Media", 5), ("OFFLINE", "Trade Show", 12), ("OTHER_CAMPAIGNS", "Webinar", 6),
)

SF_LEAD_SOURCES_EXTRA = ("Phone Inquiry", "Purchased List", "Other", None)

LEAD_STATUS_OPEN = "Open - Not Contacted"
LEAD_STATUS_WORKING = "Working - Contacted"
LEAD_STATUS_CONVERTED = "Closed - Converted"
LEAD_STATUS_LOST = "Closed - Not Converted"

ACCOUNT_TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Partner", "Other")

#: Salesforce opportunity stages: (StageName, Probability, ForecastCategoryName, IsClosed, IsWon)
SF_STAGES = (
    ("Prospecting", 10.0, "Pipeline", False, False),
    ("Qualification", 10.0, "Pipeline", False, False),
    ("Needs Analysis", 20.0, "Pipeline", False, False),
    ("Value Proposition", 50.0, "Pipeline", False, False),
    ("Id. Decision Makers", 60.0, "Pipeline", False, False),
    ("Perception Analysis", 70.0, "Best Case", False, False),
    ("Proposal/Price Quote", 75.0, "Best Case", False, False),
    ("Negotiation/Review", 90.0, "Commit", False, False),
    ("Closed Won", 100.0, "Closed", True, True),
    ("Closed Lost", 0.0, "Omitted", True, False),
)
SF_WON = 8
SF_LOST = 9

SF_OPP_TYPES = ("New Business", "Existing Business - Upgrade", "Renewal")

PRODUCTS = ("Platform", "Analytics Suite", "Data Pipeline", "Enterprise License", "Professional Services",
            "Starter Plan", "Add-on Seats", "Premium Support")

#: HubSpot default pipeline stages: (id, label, probability, is_closed)
HS_DEFAULT_STAGES = (
    ("appointmentscheduled", "Appointment Scheduled", "0.2", "false"),
    ("qualifiedtobuy", "Qualified To Buy", "0.4", "false"),
    ("presentationscheduled", "Presentation Scheduled", "0.6", "false"),
    ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8", "false"),
    ("contractsent", "Contract Sent", "0.9", "false"),
    ("closedwon", "Closed Won", "1.0", "true"),
    ("closedlost", "Closed Lost", "0.0", "true"),
)

#: Second, custom HubSpot deal pipeline (numeric ids, as HubSpot assigns them)
HS_CUSTOM_PIPELINE = ("14632178", "Partner Deals")
HS_CUSTOM_STAGES = (
    ("118904512", "Partner Introduced", "0.1", "false"),
    ("118904513", "Joint Discovery", "0.3", "false"),
    ("118904514", "Proposal", "0.6", "false"),
    ("118904515", "Won", "1.0", "true"),
    ("118904516", "Lost", "0.0", "true"),
)

UTM_KINDS = ("webinar", "ebook", "demo", "retargeting", "tradeshow", "newsletter", "launch", "abm", "podcast",
             "report")
UTM_TOPICS = (
    "dataops", "revops", "pipeline", "analytics", "security", "ai", "cloud", "forecasting", "attribution",
    "governance", "warehouse", "dashboards", "integration", "compliance", "automation", "observability",
    "lakehouse", "reverseetl", "cdp", "sso", "finops", "benchmarks", "roadmap", "migration", "privacy",
    "modeling", "quality", "lineage", "streaming", "costs", "scaling", "partners", "ecommerce", "saas",
    "fintech", "healthcare", "manufacturing", "retail", "publicsector", "startups",
)
UTM_REGIONS = ("", "_na", "_emea", "_dach", "_uk", "_fr")

#: Which ad platforms a kind of campaign runs on.
UTM_PLATFORMS = {
    "webinar": ("linkedin_ads", "meta_ads"), "ebook": ("linkedin_ads", "meta_ads", "google_ads"),
    "demo": ("google_ads",), "retargeting": ("meta_ads", "google_ads"), "tradeshow": (),
    "newsletter": (), "launch": ("google_ads", "meta_ads", "linkedin_ads"), "abm": ("linkedin_ads",),
    "podcast": ("meta_ads",), "report": ("linkedin_ads", "google_ads"),
}

#: Salesforce Campaign.Type per kind.
SF_CAMPAIGN_TYPES = {
    "webinar": "Webinar", "ebook": "Content", "demo": "Advertisement", "retargeting": "Advertisement",
    "tradeshow": "Trade Show", "newsletter": "Email", "launch": "Advertisement", "abm": "Advertisement",
    "podcast": "Other", "report": "Content", "brand": "Advertisement",
}

#: Kinds that send HubSpot marketing emails.
EMAIL_KINDS = frozenset({"webinar", "ebook", "newsletter", "launch", "report", "tradeshow"})

FORM_NAMES = (
    "Webinar registration", "Ebook download", "Demo request", "Contact us", "Newsletter signup",
    "Report download", "Event registration", "Free trial signup", "Partner inquiry", "Pricing request",
    "Podcast subscribe", "Whitepaper download",
)

#: How people type a country into HubSpot's free-text ``country`` property.
COUNTRY_SPELLINGS = {
    "US": ("United States", "United States", "USA", "US", "United States of America"),
    "GB": ("United Kingdom", "United Kingdom", "UK", "England", "GB"),
    "DE": ("Germany", "Germany", "Deutschland", "DE"),
    "FR": ("France", "France", "FR"),
    "NL": ("Netherlands", "Netherlands", "Nederland", "The Netherlands"),
    "ES": ("Spain", "Spain", "España"),
    "CA": ("Canada", "Canada", "CA"),
    "AU": ("Australia", "Australia", "AU"),
}
