"""Reference tables the generator draws from.

Italian cities, categories, channels, seasons, professions, education, industries, lead
sources and the other customer attributes.
"""

from __future__ import annotations

import numpy as np

CATEGORIES: tuple[str, ...] = ("electronics", "home", "garden", "clothing", "food", "office")
CHANNELS: tuple[str, ...] = ("store", "web", "phone", "agent")
MACRO_AREAS: tuple[str, ...] = ("North-West", "North-East", "Centre", "South", "Islands")

#: Italian cities: (city, province code, region, macro area, latitude, longitude,
#: first postcode, number of postcodes, population in thousands - used as weight).
CITIES: tuple[tuple[str, str, str, str, float, float, int, int, int], ...] = (
    ("Torino", "TO", "Piemonte", "North-West", 45.0703, 7.6869, 10121, 36, 850),
    ("Novara", "NO", "Piemonte", "North-West", 45.4469, 8.6222, 28100, 1, 103),
    ("Cuneo", "CN", "Piemonte", "North-West", 44.3845, 7.5427, 12100, 1, 56),
    ("Aosta", "AO", "Valle d'Aosta", "North-West", 45.7375, 7.3154, 11100, 1, 34),
    ("Genova", "GE", "Liguria", "North-West", 44.4056, 8.9463, 16121, 39, 560),
    ("La Spezia", "SP", "Liguria", "North-West", 44.1025, 9.8241, 19121, 16, 92),
    ("Milano", "MI", "Lombardia", "North-West", 45.4642, 9.1900, 20121, 42, 1370),
    ("Bergamo", "BG", "Lombardia", "North-West", 45.6983, 9.6773, 24121, 9, 120),
    ("Brescia", "BS", "Lombardia", "North-West", 45.5416, 10.2118, 25121, 16, 195),
    ("Como", "CO", "Lombardia", "North-West", 45.8081, 9.0852, 22100, 1, 83),
    ("Varese", "VA", "Lombardia", "North-West", 45.8206, 8.8251, 21100, 1, 80),
    ("Trento", "TN", "Trentino-Alto Adige", "North-East", 46.0748, 11.1217, 38121, 3, 118),
    ("Bolzano", "BZ", "Trentino-Alto Adige", "North-East", 46.4983, 11.3548, 39100, 1, 107),
    ("Venezia", "VE", "Veneto", "North-East", 45.4408, 12.3155, 30121, 54, 250),
    ("Verona", "VR", "Veneto", "North-East", 45.4384, 10.9916, 37121, 22, 255),
    ("Padova", "PD", "Veneto", "North-East", 45.4064, 11.8768, 35121, 22, 210),
    ("Vicenza", "VI", "Veneto", "North-East", 45.5455, 11.5354, 36100, 1, 110),
    ("Treviso", "TV", "Veneto", "North-East", 45.6669, 12.2430, 31100, 1, 85),
    ("Trieste", "TS", "Friuli-Venezia Giulia", "North-East", 45.6495, 13.7768, 34121, 28, 200),
    ("Udine", "UD", "Friuli-Venezia Giulia", "North-East", 46.0711, 13.2346, 33100, 1, 98),
    ("Bologna", "BO", "Emilia-Romagna", "North-East", 44.4949, 11.3426, 40121, 21, 390),
    ("Modena", "MO", "Emilia-Romagna", "North-East", 44.6471, 10.9252, 41121, 6, 185),
    ("Parma", "PR", "Emilia-Romagna", "North-East", 44.8015, 10.3279, 43121, 6, 195),
    ("Firenze", "FI", "Toscana", "Centre", 43.7696, 11.2558, 50121, 21, 360),
    ("Pisa", "PI", "Toscana", "Centre", 43.7228, 10.4017, 56121, 8, 90),
    ("Siena", "SI", "Toscana", "Centre", 43.3188, 11.3308, 53100, 1, 53),
    ("Perugia", "PG", "Umbria", "Centre", 43.1107, 12.3908, 6121, 14, 165),
    ("Ancona", "AN", "Marche", "Centre", 43.6158, 13.5189, 60121, 11, 100),
    ("Roma", "RM", "Lazio", "Centre", 41.9028, 12.4964, 118, 82, 2750),
    ("Latina", "LT", "Lazio", "Centre", 41.4676, 12.9037, 4100, 1, 127),
    ("L'Aquila", "AQ", "Abruzzo", "South", 42.3498, 13.3995, 67100, 1, 70),
    ("Pescara", "PE", "Abruzzo", "South", 42.4618, 14.2161, 65121, 9, 118),
    ("Campobasso", "CB", "Molise", "South", 41.5603, 14.6627, 86100, 1, 48),
    ("Napoli", "NA", "Campania", "South", 40.8518, 14.2681, 80121, 27, 910),
    ("Salerno", "SA", "Campania", "South", 40.6824, 14.7681, 84121, 15, 127),
    ("Bari", "BA", "Puglia", "South", 41.1171, 16.8719, 70121, 11, 315),
    ("Lecce", "LE", "Puglia", "South", 40.3515, 18.1750, 73100, 1, 95),
    ("Taranto", "TA", "Puglia", "South", 40.4644, 17.2470, 74121, 3, 190),
    ("Potenza", "PZ", "Basilicata", "South", 40.6404, 15.8056, 85100, 1, 65),
    ("Reggio Calabria", "RC", "Calabria", "South", 38.1113, 15.6473, 89121, 15, 170),
    ("Cosenza", "CS", "Calabria", "South", 39.2983, 16.2537, 87100, 1, 65),
    ("Palermo", "PA", "Sicilia", "Islands", 38.1157, 13.3615, 90121, 31, 630),
    ("Catania", "CT", "Sicilia", "Islands", 37.5079, 15.0830, 95121, 11, 300),
    ("Messina", "ME", "Sicilia", "Islands", 38.1938, 15.5540, 98121, 48, 220),
    ("Cagliari", "CA", "Sardegna", "Islands", 39.2238, 9.1217, 9121, 14, 150),
    ("Sassari", "SS", "Sardegna", "Islands", 40.7259, 8.5557, 7100, 1, 125),
)

# Month weights (Jan..Dec) per category: Q4 gift peak, garden in spring, winter and
# summer sales for clothing, an August dip and a back-to-school peak for office.
_SEASON = np.array(
    [
        [0.8, 0.7, 0.8, 0.8, 0.8, 0.8, 0.9, 0.7, 0.9, 1.0, 1.7, 2.3],  # electronics
        [0.9, 0.8, 1.0, 1.1, 1.1, 1.0, 0.9, 0.7, 1.0, 1.1, 1.2, 1.5],  # home
        [0.3, 0.5, 1.5, 2.4, 2.5, 1.8, 1.0, 0.6, 0.8, 0.6, 0.3, 0.3],  # garden
        [1.3, 0.8, 0.9, 1.0, 1.0, 1.1, 1.3, 0.8, 1.0, 1.0, 1.3, 1.8],  # clothing
        [0.9, 0.9, 1.0, 1.0, 1.0, 0.9, 0.9, 0.8, 1.0, 1.0, 1.1, 1.7],  # food
        [1.1, 1.1, 1.1, 1.0, 1.0, 0.9, 0.7, 0.4, 1.4, 1.2, 1.1, 0.9],  # office
    ]
)
# Catalogue per category: (code, number of products, median list price, log-sd,
# gross margin rate, return-rate factor).
_CATALOGUE = (
    ("ELE", 120, 150.0, 0.9, 0.16, 1.0),
    ("HOM", 150, 40.0, 0.8, 0.38, 0.8),
    ("GAR", 80, 30.0, 0.8, 0.32, 0.6),
    ("CLO", 200, 35.0, 0.6, 0.52, 2.0),
    ("FOO", 250, 9.0, 0.5, 0.24, 0.2),
    ("OFF", 100, 18.0, 0.8, 0.30, 0.5),
)

_PROFESSIONS = (
    "employee", "manager", "entrepreneur", "professional", "teacher",
    "worker", "student", "retired", "unemployed", "homemaker",
)
# median yearly income (EUR) and education latent per profession
_PROF_INCOME = np.array([28e3, 58e3, 50e3, 46e3, 29e3, 24e3, 8e3, 22e3, 7e3, 6e3])
_PROF_EDU = np.array([0.0, 0.9, 0.3, 1.3, 1.0, -0.9, 0.2, -0.6, -0.7, -0.6])
_PROF_BASE = np.array([0.34, 0.06, 0.07, 0.08, 0.07, 0.20, 0.04, 0.04, 0.05, 0.05])
_PROF_UP = np.array([0.0, 1.0, 0.6, 1.0, 0.3, -0.8, 0.0, 0.0, -0.8, -0.6])
_EDUCATION = ("basic", "secondary", "bachelor", "master", "phd")
_EDU_CUTS = np.array([-1.0, 0.45, 1.2, 2.3])
_MARITAL = ("single", "married", "cohabiting", "divorced", "widowed")
_SATISFACTION = ("very_dissatisfied", "dissatisfied", "neutral", "satisfied", "very_satisfied")
_SAT_CUTS = np.array([-1.5, -0.5, 0.4, 1.3])
_INDUSTRIES = (
    "retail", "manufacturing", "construction", "hospitality", "professional_services",
    "healthcare", "education", "logistics", "agriculture", "public_sector",
)
_INDUSTRY_P = np.array([0.18, 0.16, 0.12, 0.12, 0.14, 0.07, 0.05, 0.07, 0.05, 0.04])
_COMPANY_SIZES = ("micro", "small", "medium", "large")
_COMPANY_SIZE_P = np.array([0.35, 0.45, 0.16, 0.04])
_LEAD_SOURCES = ("web_form", "social", "advertising", "referral", "store_visit", "trade_fair",
                 "cold_call", "agent")
_LEAD_COST = np.array([35.0, 30.0, 60.0, 20.0, 15.0, 120.0, 80.0, 250.0])
_LEAD_P_B2C = np.array([0.30, 0.20, 0.15, 0.15, 0.15, 0.05, 0.0, 0.0])
_LEAD_P_B2B = np.array([0.15, 0.02, 0.05, 0.15, 0.0, 0.20, 0.18, 0.25])
_PROSPECT_STAGES = ("first_contact", "meeting", "offer", "negotiation", "lost")
_PROSPECT_STAGE_P = np.array([0.30, 0.25, 0.22, 0.08, 0.15])
_JOURNEY = ("first_contact", "meeting", "offer", "negotiation", "won", "lost")
_INTERESTS = ("sustainability", "technology", "price", "brand")
_SURVEYS = ("quality", "service", "price")
