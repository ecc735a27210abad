"""Phrase banks for the synthetic writing-assistant generations.

Everything here is plain data (tuples, dicts) so that the generator stays deterministic: the
generator only ever indexes into these constants with a seeded ``random.Random``.

Conventions used by the banks:

* Strings may contain ``{slot}`` placeholders; they are filled with ``str.format_map`` from a
  per-row context built in :mod:`curation_dagster.sample_data.generator` (see ``BASE_SLOTS`` for the
  list of slots that are always available; a scenario can add its own via ``"slots"``).
* Clean English texts never contain ``@``, ``<``, ``>``, ``&``, digit runs that look like phone
  numbers, or common Spanish/German/French function words, so that rules looking for PII, HTML or
  a wrong language have no false positives on clean rows.
* A *scenario* is a dict with the keys ``instructions``, ``open``, ``body`` (a tuple of slots; each
  slot is a tuple of alternative sentences; slot 0 is always used, the others are sampled),
  ``close`` and optionally ``input`` (sentences for the message being replied to), ``reply_open``,
  ``reply_p`` (chance of having an input message), ``slots`` (extra slot values), ``greetings``
  (overrides the tone greetings), ``generic_close`` (whether the tone closers may be used) and
  ``role_group`` (which identity roles fit).
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------
# People, organisations and other slot values
# --------------------------------------------------------------------------------------------

FIRST_NAMES = (
    "Anna", "James", "Maria", "Liam", "Olivia", "Noah", "Emma", "Priya", "Arjun", "Wei",
    "Mei", "Omar", "Fatima", "Lucas", "Sofia", "Daniel", "Grace", "Ethan", "Chloe", "Mateo",
    "Aisha", "Kenji", "Yuki", "Hannah", "Samuel", "Zoe", "Isaac", "Leah", "Marcus", "Nina",
    "Oliver", "Ava", "Benjamin", "Charlotte", "David", "Ella", "Felix", "Georgia", "Henry", "Isla",
    "Jack", "Julia", "Kevin", "Laura", "Michael", "Natalie", "Oscar", "Paula", "Rachel", "Ryan",
    "Sarah", "Thomas", "Victoria", "William", "Amelia", "Caleb", "Diana", "Elijah", "Freya", "Gabriel",
    "Hugo", "Ivy", "Jasmine", "Jonah", "Kai", "Lily", "Maya", "Nathan", "Nora", "Owen",
    "Peter", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Vincent", "Wendy", "Xavier", "Yasmin",
    "Zara", "Adrian", "Bianca", "Carlos", "Deepa", "Elena", "Farah", "Gavin", "Hiro", "Imani",
    "Jorge", "Kofi", "Lena", "Malik", "Nadia", "Aaron", "Brooke", "Connor", "Dylan", "Erin",
)

LAST_NAMES = (
    "Lee", "Smith", "Johnson", "Patel", "Chen", "Garcia", "Nguyen", "Kim", "Brown", "Wilson",
    "Martinez", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis",
    "Walker", "Young", "Allen", "King", "Wright", "Scott", "Green", "Baker", "Adams", "Nelson",
    "Hill", "Campbell", "Mitchell", "Roberts", "Carter", "Phillips", "Evans", "Turner", "Torres", "Parker",
    "Collins", "Edwards", "Stewart", "Morris", "Murphy", "Cook", "Rogers", "Morgan", "Cooper", "Peterson",
    "Reed", "Bailey", "Bell", "Gomez", "Kelly", "Howard", "Ward", "Cox", "Diaz", "Richardson",
    "Wood", "Watson", "Brooks", "Bennett", "Gray", "James", "Hughes", "Price", "Sanders", "Myers",
    "Long", "Ross", "Foster", "Okafor", "Mensah", "Tanaka", "Sato", "Kowalski", "Novak", "Singh",
    "Sharma", "Ali", "Hassan", "Rossi", "Silva", "Larsen", "Berg", "Walsh", "O'Brien", "Fischer",
)

COMPANIES = (
    "Northwind Labs", "Brightline Analytics", "Cedar and Pine Studio", "Harborview Consulting",
    "Bluepeak Software", "Lumen Health", "Redwood Logistics", "Summit Financial Group",
    "Oakridge Partners", "Silverleaf Media", "Keystone Robotics", "Meadowbrook Foods",
    "Ironclad Security", "Clearwater Energy", "Fableworks Publishing", "Greenfield Schools",
    "Atlas Freight", "Pinecrest Realty", "Nimbus Cloud Systems", "Orchard Retail", "Quartz Legal",
    "Riverstone Dental", "Tidewater Marine", "Vantage Hiring", "Willow Creek Wellness",
    "Zephyr Travel", "Copperline Manufacturing", "Starling Education", "Foxglove Design",
    "Granite Capital", "Beacon Insurance", "Evergreen Architects", "Kestrel Biotech",
    "Lighthouse Nonprofit Network", "Maple Grove Hospitality", "Polaris Engineering",
)

TONES = ("formal", "friendly", "casual", "confident", "empathetic")
TONE_WEIGHTS = (0.30, 0.30, 0.14, 0.12, 0.14)

ROLES = {
    "recruiting": (
        "Talent Acquisition Lead", "Recruiter", "HR Manager", "Head of People", "Hiring Manager",
        "People Operations Specialist", "Technical Recruiter",
    ),
    "sales": (
        "Account Executive", "Sales Manager", "Business Development Representative",
        "Head of Partnerships", "Founder", "VP of Sales", "Partnerships Manager",
    ),
    "support": (
        "Customer Support Specialist", "Support Team Lead", "Customer Success Manager",
        "Client Services Coordinator", "Support Engineer",
    ),
    "finance": (
        "Accounts Receivable Specialist", "Finance Manager", "Bookkeeper", "Founder",
        "Office Manager", "Controller",
    ),
    "general": (
        "Product Manager", "Software Engineer", "Marketing Manager", "Graduate Student", "Teacher",
        "Nurse", "Operations Analyst", "Freelance Designer", "Project Coordinator", "Consultant",
        "Data Scientist", "Office Administrator", "Store Manager", "Research Assistant",
        "Architect", "Paralegal", "Account Manager", "Team Lead", "Event Planner", "Engineering Manager",
    ),
}

PRODUCTS = (
    "Pro plan", "analytics dashboard", "scheduling app", "reporting add-on", "mobile app",
    "team workspace", "invoicing module", "Starter package", "CRM integration", "onboarding toolkit",
    "data export feature", "Enterprise plan", "booking widget", "survey builder",
)
FEATURES = (
    "automated reminders", "shared calendars", "custom reports", "single sign-on", "bulk export",
    "approval workflows", "real-time dashboards", "smart templates", "usage alerts",
)
JOBS = (
    "Senior Data Analyst", "Product Designer", "Backend Engineer", "Marketing Coordinator",
    "Customer Success Manager", "Operations Associate", "Frontend Developer", "Content Strategist",
    "Account Executive", "HR Generalist", "Financial Analyst", "QA Engineer", "Office Manager",
    "Project Manager", "UX Researcher", "Sales Development Representative", "Data Engineer",
    "Technical Writer", "Brand Designer",
)
EVENTS = (
    "product launch meetup", "annual customer summit", "spring networking evening", "open house",
    "quarterly town hall", "design workshop", "holiday party", "founders breakfast",
    "community hackathon", "leadership roundtable", "partner appreciation dinner", "industry mixer",
)
VENUES = (
    "our downtown office", "Riverside Hall", "the Grand Hotel ballroom", "our rooftop terrace",
    "the Oak Room at Harbor House", "the Innovation Center", "the Lakeview Pavilion",
)
PROJECTS = (
    "website redesign", "spring marketing campaign", "data migration", "mobile app release",
    "onboarding revamp", "vendor audit", "annual report", "pricing page update", "customer survey",
    "CRM rollout", "brand refresh", "warehouse expansion plan", "billing system upgrade",
    "partner portal", "hiring plan",
)
TOPICS = (
    "growth marketing", "data engineering", "product strategy", "B2B sales", "talent acquisition",
    "supply chain operations", "UX research", "fundraising", "community building",
    "customer success", "climate tech", "machine learning", "brand design",
)
DELIVERABLES = (
    "the draft report", "the design mockups", "the budget proposal", "the contract review",
    "the slide deck", "the research summary", "the test plan", "the quarterly forecast",
    "the project brief", "the market analysis",
)
ISSUES = (
    "login problems", "a duplicate charge", "the sync error in the mobile app",
    "trouble exporting your reports", "a missing confirmation email",
)
CITIES = (
    "Austin", "Denver", "Chicago", "Seattle", "Boston", "Toronto", "London", "Dublin", "Portland",
    "Atlanta", "Manchester", "Sydney", "Vancouver", "Nashville", "Edinburgh",
)
TEAMS = ("marketing", "design", "engineering", "finance", "support", "sales", "operations", "product")
DURATIONS = ("15 minutes", "20 minutes", "30 minutes", "45 minutes", "half an hour")
DURATIONS_ADJ = ("15-minute", "20-minute", "30-minute", "45-minute", "quick half-hour")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "ten")
HOUR_WORDS = ("three", "four", "five", "six", "seven", "nine")
PERCENTS = ("10%", "12%", "15%", "18%", "20%", "25%", "30%", "35%", "40%")
TEAM_SIZES = ("12", "25", "40", "60", "85", "120", "200")
TIMES = (
    "9:00 am", "9:30 am", "10:00 am", "10:30 am", "11:00 am", "11:30 am", "1:00 pm", "1:30 pm",
    "2:00 pm", "2:30 pm", "3:00 pm", "3:30 pm", "4:00 pm", "4:30 pm",
)
AIRLINES = (
    ("SkyHarbor Airlines", "SH"), ("Northstar Air", "NS"), ("Bluewing Airways", "BW"),
    ("Coastal Jet", "CJ"), ("Meridian Air", "MA"),
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)

# Slots always present in the formatting context (documented for rule and test writers).
BASE_SLOTS = (
    "name", "rlast", "rfull", "rcompany", "rrole", "me", "me_first", "role", "company", "company2",
    "day", "day2", "soon_day", "past_day", "weekday", "time", "time2", "month", "past_month",
    "amount", "fee", "half", "invoice", "order", "ticket", "product", "feature", "job", "salary",
    "event", "venue", "city", "project", "topic", "deliverable", "ndays", "hours", "pct",
    "duration", "duration_adj", "colleague", "quarter", "team_size", "issue", "unit", "team", "airline", "flight",
    "booking", "room", "member_id",
)

# --------------------------------------------------------------------------------------------
# Tone-dependent framing: greetings, pleasantries, closers and sign-offs
# --------------------------------------------------------------------------------------------

GREETINGS = {
    "formal": ("Dear {name},", "Hello {name},", "Good morning {name},", "Good afternoon {name},"),
    "friendly": ("Hi {name},", "Hello {name},", "Hi {name}!", "Good morning {name},"),
    "casual": ("Hey {name},", "Hi {name},", "Hey {name}!", "Hiya {name},"),
    "confident": ("Hi {name},", "Hello {name},", "{name},", "Good morning {name},"),
    "empathetic": ("Dear {name},", "Hi {name},", "Hello {name},"),
}
# Greetings for scenarios that address a group or an organisation (no informal "Hey").
FORMAL_GREETINGS = ("Dear {name},", "Hello {name},", "Good morning {name},", "Good afternoon {name},")

PLEASANTRIES = {
    "formal": (
        "I hope this message finds you well.", "I trust you are doing well.",
        "I hope you had a pleasant week.",
    ),
    "friendly": (
        "I hope you are having a great week.", "I hope all is well with you.",
        "I hope your week is off to a good start.",
    ),
    "casual": ("Hope your week is going well!", "Hope you are doing well.", "Hope all is good on your end."),
    "confident": ("I hope your week is going well.", "I hope you are doing well."),
    "empathetic": (
        "I hope you are doing well and taking care of yourself.",
        "I hope this week has been kind to you.",
    ),
}

TONE_CLOSERS = {
    "formal": (
        "Please do not hesitate to contact me if you have any questions.",
        "Thank you for your time and consideration.",
        "I look forward to hearing from you.",
    ),
    "friendly": (
        "Let me know if you have any questions!",
        "Looking forward to hearing from you!",
        "Thanks so much, and talk soon.",
    ),
    "casual": ("Let me know what you think!", "Ping me if anything comes up.", "Thanks a ton!"),
    "confident": (
        "I look forward to your reply.",
        "Let me know how you would like to proceed.",
        "I am confident we can make this work.",
    ),
    "empathetic": (
        "I really appreciate your patience and understanding.",
        "Please let me know if there is anything I can do to help.",
        "Thank you so much for your understanding.",
    ),
}

SIGNOFFS = {
    "formal": ("Kind regards,", "Best regards,", "Sincerely,", "Yours sincerely,", "Regards,", "With best regards,"),
    "friendly": ("Best,", "Warm regards,", "Thanks so much,", "All the best,", "Cheers,", "Many thanks,"),
    "casual": ("Cheers,", "Thanks!", "Talk soon,", "Best,", "Thanks,", "See you soon,"),
    "confident": ("Best regards,", "Best,", "Looking forward,", "Regards,", "Thanks,"),
    "empathetic": ("Warmly,", "Warm regards,", "Take care,", "With gratitude,", "Kind regards,", "All the best,"),
}

# Opening sentences when the user pasted a message they are replying to (scenario-specific ones win).
REPLY_OPENERS = (
    "Thank you for your message.", "Thanks for getting back to me.", "Thanks for reaching out.",
    "Thank you for your email from {past_day}.", "Great to hear from you.",
)

# Framing for the pasted input message (written by the recipient to the user).
INPUT_GREETINGS = ("Hi {me_first},", "Hello {me_first},", "Dear {me_first},", "Hey {me_first},")
INPUT_SIGNOFFS = ("Best,\n{rfull}", "Thanks,\n{name}", "Kind regards,\n{rfull}", "Cheers,\n{name}", "Best regards,\n{rfull}")

# Optional additions to instructions, by tone, plus neutral ones.
INSTRUCTION_SUFFIXES = {
    "formal": ("Keep it professional.", "Use a formal tone."),
    "friendly": ("Keep it warm and friendly.", "Friendly tone please."),
    "casual": ("Keep it casual.", "Not too formal."),
    "confident": ("Sound confident.", "Be direct and clear."),
    "empathetic": ("Be kind and understanding.", "Show some empathy."),
    "neutral": ("Keep it short.", "Keep it under 150 words.", "Be concise.", "Two short paragraphs max."),
}
INSTRUCTION_PREFIXES = ("Please ", "pls ", "Can you please ")

# Sentences a near-duplicate may gain, and single-word synonym swaps it may apply.
EXTRA_SENTENCES = (
    "Thanks again for your time.", "I hope you have a great rest of your week.",
    "Happy to answer any questions in the meantime.", "Thank you in advance for your help.",
    "I appreciate your help with this.",
)
SYNONYMS = (
    ("really", "truly"), ("truly", "really"), ("great", "excellent"), ("happy", "glad"),
    ("glad", "happy"), ("short", "brief"), ("quick", "brief"), ("help", "support"),
    ("very", "extremely"), ("questions", "concerns"), ("email", "message"), ("meeting", "call"),
    ("Unfortunately", "Sadly"), ("wonderful", "lovely"), ("appreciate", "value"),
    ("would love", "would like"), ("Thank you", "Thanks"), ("soon", "shortly"),
)
GREETING_WORDS = ("Hi", "Hello", "Hey", "Dear", "Good morning", "Good afternoon", "Hiya")

# --------------------------------------------------------------------------------------------
# Specific templates
# --------------------------------------------------------------------------------------------

SPECIFIC_TEMPLATES = {
    "candidate_rejection": (
        {
            "role_group": "recruiting", "reply_p": 0.7,
            "instructions": (
                "Write a polite rejection email to {name} who interviewed for the {job} role; we went with another candidate.",
                "Let {rfull} know we won't be moving forward with their application for {job}, keep it kind and brief.",
                "Reject {name} for the {job} position after the final round and encourage them to apply again in the future.",
                "Candidate rejection for {name}, {job} role. Mention that the decision was close and thank them for their time.",
                "Draft a rejection for {name} after their {past_day} interview for {job}, be warm and professional.",
                "Tell {name} they did not get the {job} job. Offer to share feedback if they want it.",
            ),
            "input": (
                "I wanted to follow up on my interview for the {job} position on {past_day}.",
                "I really enjoyed meeting the team and learning more about {company}.",
                "Could you let me know if there are any updates on the hiring timeline?",
                "I remain very excited about the opportunity and am happy to provide any additional information.",
            ),
            "reply_open": (
                "Thank you for following up, and for your patience while we finalized our decision.",
                "Thanks for checking in about the {job} role.",
                "I appreciate you reaching out, and I am sorry for the wait.",
            ),
            "open": (
                "Thank you for taking the time to interview for the {job} position at {company}.",
                "Thank you for your interest in the {job} role and for the time you spent with our team on {past_day}.",
                "We truly appreciate the effort you put into the interview process for the {job} position.",
                "It was a pleasure getting to know you during the interviews for our {job} opening.",
            ),
            "body": (
                (
                    "After careful consideration, we have decided to move forward with another candidate whose experience more closely matches our current needs.",
                    "After a lot of discussion, the team has decided to proceed with a different candidate for this role.",
                    "Unfortunately, we will not be moving forward with your application at this time.",
                    "This was a difficult decision, and we have chosen to continue with another applicant for the position.",
                ),
                (
                    "The team was impressed by your background in {topic}, and the decision was a close one.",
                    "Your portfolio and the way you approached the case study stood out to everyone on the panel.",
                    "We especially enjoyed your thoughtful questions about how the team works day to day.",
                    "Please know that this decision is not a reflection of your skills, which the panel spoke highly of.",
                ),
                (
                    "We would be glad to keep your profile on file and reach out if a similar role opens up in the coming months.",
                    "We encourage you to apply for future openings at {company}, as we think you could be a great fit down the road.",
                    "If you would like brief feedback on your interviews, I am happy to set up a short call.",
                    "I would be happy to share some feedback from the panel if that would be useful to you.",
                ),
            ),
            "close": (
                "Thank you again for your interest in {company}, and I wish you the very best in your search.",
                "We wish you every success in your next steps.",
                "Thanks again for your time, and best of luck with your job search.",
            ),
            "generic_close": False,
        },
    ),
    "meeting_request": (
        {
            "role_group": "general", "reply_p": 0.65,
            "instructions": (
                "Ask {name} for a {duration_adj} meeting on {day} to discuss the {project}.",
                "Request a meeting with {rfull} from {rcompany} next week about the {project}, suggest {day} at {time}.",
                "Write an email to {name} asking to find time to go over the {project} timeline, I'm flexible on {day} or {day2}.",
                "Set up a call with {name} to review {deliverable} before the deadline, propose {time} on {day}.",
                "Email {name} to ask for a quick sync about the {project}, keep it short and friendly.",
            ),
            "input": (
                "Thanks for sending over the latest update on the {project}.",
                "I had a few questions about the timeline that might be easier to discuss live.",
                "Let me know if you have some time next week to connect.",
                "My calendar is fairly open on {day}, but mornings are usually best for me.",
            ),
            "reply_open": (
                "Thanks for your note, and I am happy to find time to talk.",
                "Thank you for getting back to me so quickly.",
                "Great to hear from you, and I agree that a quick conversation would help.",
            ),
            "open": (
                "I would like to set up a short meeting to discuss the {project}.",
                "I wanted to find some time for us to talk about the {project}.",
                "Could we schedule a {duration_adj} call to go over {deliverable} together?",
                "I am reaching out to see if you have time for a quick meeting about the {project}.",
            ),
            "body": (
                (
                    "Would {day} at {time} work for you?",
                    "I am available on {day} at {time}, or any time on {day2} if that is easier.",
                    "How does {time} on {day} sound?",
                    "I could do {day} or {day2}, whichever fits your schedule better.",
                ),
                (
                    "I would like to review the current timeline and agree on next steps.",
                    "It would be great to align on priorities before we share the plan with the wider team.",
                    "I have a few open questions about scope and budget that I would like to walk through with you.",
                    "I would like to hear your thoughts on the draft and make sure we are on the same page.",
                ),
                (
                    "I will send a calendar invite with a video link once we confirm a time.",
                    "We can meet at our office or jump on a video call, whichever you prefer.",
                    "I will share a short agenda ahead of time so we can keep it focused.",
                    "It should not take more than {duration}.",
                ),
            ),
            "close": (
                "Please let me know what works best for you.",
                "If neither time works, feel free to suggest another slot.",
                "Looking forward to catching up.",
            ),
        },
    ),
    "follow_up": (
        {
            "role_group": "general", "reply_p": 0.75,
            "instructions": (
                "Follow up with {name} about {deliverable} I sent on {past_day}, politely ask if they had a chance to review it.",
                "Write a gentle follow-up to {rfull} since I haven't heard back about the {project} proposal.",
                "Send a follow up email to {name} after our meeting on {past_day}, recap the next steps.",
                "Nudge {name} at {rcompany} about {deliverable}, we need an answer by {day}.",
                "Follow-up to {name} about the {project}, mention the budget of {amount} and the timeline.",
            ),
            "input": (
                "Thanks for the great conversation on {past_day}.",
                "I am still reviewing {deliverable} with my team and will get back to you soon.",
                "We have a few internal approvals to get through first.",
                "Could you remind me what the next steps are on your side?",
            ),
            "reply_open": (
                "Thanks for the update, I appreciate you keeping me in the loop.",
                "Thank you for your reply on {past_day}.",
                "Thanks for getting back to me.",
            ),
            "open": (
                "I wanted to follow up on {deliverable} I sent over on {past_day}.",
                "I am just checking in to see whether you had a chance to look at the {project} proposal.",
                "Following up on our conversation from {past_day}, I wanted to share a quick recap.",
                "I wanted to circle back on the {project}.",
            ),
            "body": (
                (
                    "We would love to hear your thoughts when you have a moment.",
                    "If it would help, I am happy to walk you through the main points on a short call.",
                    "Please let me know if you need any additional details from our side.",
                    "I know things get busy, so I wanted to bring this back to the top of your inbox.",
                ),
                (
                    "As discussed, the next step would be to confirm the budget of {amount} and the start date.",
                    "Our goal is to finalize everything by {day} so the team can get started.",
                    "Once we hear back, we can share an updated timeline within a couple of days.",
                    "To keep things on track, it would be great to have your feedback by {day}.",
                ),
                (
                    "I have attached the latest version for easy reference.",
                    "Nothing has changed since my last email, but I updated the figures for the {quarter} forecast.",
                    "I also included a short summary of the open questions we discussed.",
                ),
            ),
            "close": (
                "Thanks again, and I look forward to hearing from you.",
                "Thank you for your time.",
                "Let me know if anything has changed on your end.",
            ),
        },
    ),
    "sales_outreach": (
        {
            "role_group": "sales", "reply_p": 0.35,
            "instructions": (
                "Cold email to {rfull}, {rrole} at {rcompany}, introducing our {product} and asking for a short call.",
                "Write a short outreach email to {name} at {rcompany} about how our {product} can save their team time.",
                "Sales email for {name}: mention {feature} and that similar teams cut reporting time by {pct}.",
                "Reach out to {name} who downloaded our guide last week and offer a demo of the {product}.",
                "Prospecting email to {rcompany}, address {name}, pitch {feature}, keep under 150 words.",
            ),
            "input": (
                "I came across your website and wanted to learn more about the {product}.",
                "We are currently evaluating a few tools for our team of around {team_size} people.",
                "Do you offer a trial or a demo?",
                "Pricing information would also be helpful.",
            ),
            "reply_open": (
                "Thanks so much for reaching out and for your interest in the {product}.",
                "Thank you for your inquiry, it is great to hear from the {rcompany} team.",
            ),
            "open": (
                "I am reaching out because teams like yours at {rcompany} often spend hours on manual reporting every week.",
                "I noticed that {rcompany} has been growing quickly, and I thought our {product} might be useful for your team.",
                "My name is {me_first}, and I work with operations teams on simplifying their daily workflows at {company}.",
                "I wanted to introduce you to the {product}, which helps teams get more done with less busywork.",
            ),
            "body": (
                (
                    "Our customers use {feature} to save several hours every week.",
                    "With {feature}, your team can replace spreadsheets and manual follow-ups with a single view.",
                    "One of our recent customers cut their reporting time by {pct} within the first month.",
                    "It takes less than a day to set up, and it integrates with the tools you already use.",
                ),
                (
                    "Plans start at {amount} per year for teams of your size.",
                    "We also offer a free {ndays}-week pilot so you can try it with real data.",
                    "I would be happy to put together a short demo tailored to your use case.",
                    "I can also share a case study from a company similar to {rcompany}.",
                ),
                (
                    "Would you be open to a {duration_adj} call on {day}?",
                    "Are you free for a quick demo sometime next week?",
                    "If now is not the right time, just let me know and I will follow up next quarter.",
                ),
            ),
            "close": (
                "Thanks for your time, and I hope to speak soon.",
                "Looking forward to hearing what you think.",
                "Thanks for considering it.",
            ),
        },
    ),
    "thank_you": (
        {
            "role_group": "general", "reply_p": 0.65,
            "instructions": (
                "Thank {name} for their help with the {project}, mention how much it meant to the team.",
                "Write a thank you note to {rfull} for everything they did for the {event} on {past_day}.",
                "Say thanks to {name} for helping me finish {deliverable} while I was out last week.",
                "Thank {name} from {rcompany} for their support on the {project}, keep it warm but short.",
            ),
            "input": (
                "It was great working with you on the {project}.",
                "I just wanted to say that the final presentation went really well.",
                "Let me know if there is anything else you need from me.",
            ),
            "reply_open": (
                "Thank you for your kind message.", "It was so nice to hear from you.",
                "Thanks for your note, it made my day.",
            ),
            "open": (
                "I just wanted to send a quick note to say thank you for your help with the {project}.",
                "Thank you so much for everything you did for the {event} on {past_day}.",
                "I wanted to take a moment to thank you for your support over the past few weeks.",
                "I am very grateful for the time you spent helping me with {deliverable}.",
            ),
            "body": (
                (
                    "Your attention to detail made a real difference, and the whole team noticed.",
                    "Thanks to your input, we were able to finish ahead of schedule.",
                    "I know you had a lot on your plate, so it means even more that you made the time.",
                    "The feedback from the client has been fantastic, and a lot of that is thanks to you.",
                ),
                (
                    "I learned a lot from watching how you handled the tricky parts.",
                    "Your suggestions on the budget alone saved us close to {amount}.",
                    "It was also great to finally meet {colleague} and the rest of your team.",
                    "Everyone is still talking about how smoothly the day went.",
                ),
                (
                    "I would love to return the favor, so please let me know if I can ever help with anything.",
                    "Coffee is on me the next time we are in the same city.",
                    "I hope we get to work together again soon.",
                ),
            ),
            "close": (
                "Thank you again for everything.", "Thanks again, it is truly appreciated.",
                "I really appreciate it.",
            ),
            "generic_close": False,
        },
        {
            "role_group": "general", "reply_p": 0.0,
            "instructions": (
                "Send a thank-you email to {name} after my interview on {past_day} for the {job} role at {rcompany}.",
                "Thank {rfull} for the interview yesterday, reiterate my interest in the {job} position.",
                "Write a short post-interview thank you to {name}, mention our chat about {topic}.",
            ),
            "open": (
                "Thank you for taking the time to meet with me on {past_day} to discuss the {job} role.",
                "I really appreciated the opportunity to interview for the {job} position at {rcompany}.",
            ),
            "body": (
                (
                    "I enjoyed learning more about the team and the challenges you are tackling this year.",
                    "Our conversation about {topic} made me even more excited about the role.",
                ),
                (
                    "I am confident that my experience at {company} would help me contribute quickly.",
                    "I believe my background would be a strong fit for what the team needs right now.",
                ),
                (
                    "Please let me know if there is any additional information I can provide.",
                    "I would be happy to share work samples from my time at {company} if that is helpful.",
                ),
            ),
            "close": (
                "Thank you again for your time and consideration.",
                "I look forward to hearing about the next steps.",
            ),
        },
    ),
    "apology": (
        {
            "role_group": "support", "reply_p": 0.85,
            "instructions": (
                "Apologize to {name} for the delayed delivery of order {order} and offer a {pct} discount on the next purchase.",
                "Customer {rfull} is upset their order {order} arrived late, write an apology.",
                "Write a sorry email to {name}, their package was delayed by {ndays} days, the shipping fee will be refunded.",
            ),
            "input": (
                "My order {order} was supposed to arrive on {past_day}, and it still has not shown up.",
                "This is the second time this has happened.",
                "I need these items for an event this weekend.",
                "Can you tell me what is going on?",
            ),
            "reply_open": (
                "Thank you for reaching out, and I completely understand your frustration.",
                "Thanks for letting us know, and I am sorry for the trouble.",
            ),
            "open": (
                "I am very sorry that your order {order} did not arrive when we promised.",
                "Please accept our sincere apologies for the delay with order {order}.",
            ),
            "body": (
                (
                    "The delay was caused by a problem at our warehouse, and we should have let you know sooner.",
                    "A shipping partner issue held up several deliveries this week, including yours.",
                ),
                (
                    "Your package is now on its way and should reach you by {day}.",
                    "We have upgraded your shipment to express delivery at no extra cost.",
                ),
                (
                    "As a thank you for your patience, we have added a {pct} discount to your next order.",
                    "We have also refunded the shipping fee of {fee} to your original payment method.",
                ),
            ),
            "close": (
                "Thank you for your patience and for being a loyal customer.",
                "Again, we are very sorry for the inconvenience.",
            ),
        },
        {
            "role_group": "general", "reply_p": 0.7,
            "instructions": (
                "Apologize to {name} for missing our meeting on {past_day}, suggest meeting on {day} instead.",
                "Write a sorry email to {rfull}, I completely forgot our call this morning, offer new times.",
                "Say sorry to {name} for not showing up to our {past_day} meeting and propose {day} or {day2}.",
            ),
            "input": (
                "I was on the call on {past_day} but did not see you join.",
                "Is everything okay?",
                "Let me know if you would still like to meet.",
            ),
            "reply_open": (
                "Thank you for checking in, and I am very sorry.",
                "Thanks for your message, and my apologies.",
            ),
            "open": (
                "I am so sorry for missing our meeting on {past_day}.",
                "Please accept my apologies for not joining our call on {past_day}.",
            ),
            "body": (
                (
                    "It was entirely my mistake, as the meeting did not sync to my calendar properly.",
                    "An urgent issue came up with a client, and I should have let you know right away.",
                ),
                (
                    "I know your time is valuable, and I do not take it lightly.",
                    "I understand this was frustrating, especially since you had prepared the materials.",
                ),
                (
                    "Would {day} at {time} work for you instead?",
                    "I am free on {day} or {day2}, whichever suits you better.",
                ),
            ),
            "close": (
                "Thank you for your understanding.",
                "Again, I am very sorry for the inconvenience.",
            ),
        },
        {
            "role_group": "finance", "reply_p": 0.75,
            "instructions": (
                "Apologize to customer {name} for the billing mistake on invoice {invoice}, the refund of {fee} is on its way.",
                "Write an apology for overcharging {rcompany} on their last invoice, corrected invoice attached.",
                "Say sorry to {rfull} for the wrong charges on invoice {invoice} and explain what we fixed.",
            ),
            "input": (
                "Our latest invoice {invoice} seems to include charges for seats we cancelled.",
                "Could you take a look and send a corrected version?",
                "We would like to close our books for the month by {soon_day}.",
            ),
            "reply_open": (
                "Thank you for flagging this, and I am sorry for the confusion.",
                "Thanks for bringing this to our attention.",
            ),
            "open": (
                "I am very sorry for the error on invoice {invoice}.",
                "Please accept our apologies for the incorrect charges on your most recent invoice.",
            ),
            "body": (
                (
                    "The invoice included seats that had already been cancelled, which should not have happened.",
                    "A configuration mistake on our side applied the wrong pricing to your account.",
                ),
                (
                    "We have issued a refund of {fee}, which should appear within a few business days.",
                    "I have attached a corrected invoice reflecting the right amount.",
                ),
                (
                    "We have also reviewed your account to make sure future invoices are accurate.",
                    "To make up for the trouble, we have applied a {pct} discount to your next invoice.",
                ),
            ),
            "close": (
                "Thank you for your patience and for being a valued customer.",
                "Please let me know if anything still looks off.",
            ),
        },
    ),
    "job_offer": (
        {
            "role_group": "recruiting", "reply_p": 0.55,
            "instructions": (
                "Write a job offer email to {rfull} for the {job} position, salary {salary}, start date {day2}.",
                "Offer {name} the {job} role at {company}, {salary} base, ask them to confirm by {soon_day}.",
                "Send {name} an offer for {job}, mention benefits and that the formal contract will follow.",
                "Congratulate {name} and extend an offer for the {job} job, starting {day2}, salary {salary}.",
            ),
            "input": (
                "Thank you again for the final interview on {past_day}.",
                "I really enjoyed meeting the team and learning more about the role.",
                "Please let me know if you need anything else from me, such as references.",
                "I am looking forward to hearing about next steps.",
            ),
            "reply_open": (
                "Thank you for your patience throughout the process.",
                "Thanks for your note, and I am happy to share some good news.",
            ),
            "open": (
                "I am delighted to offer you the position of {job} at {company}.",
                "On behalf of everyone at {company}, I am thrilled to extend you an offer for the {job} role.",
                "Congratulations! We would love for you to join {company} as our new {job}.",
            ),
            "body": (
                (
                    "The offer includes a base salary of {salary} per year, along with our standard benefits package.",
                    "We are offering an annual base salary of {salary}, plus health coverage and a flexible work setup.",
                    "Your compensation would be {salary} per year, with an annual bonus and generous paid time off.",
                ),
                (
                    "We would like you to start on {day2}, but we are happy to discuss a different date if needed.",
                    "Our proposed start date is {day2}.",
                    "The team is hoping you can join on {day2}, just in time for the {project}.",
                ),
                (
                    "The whole panel was impressed by your experience and the thoughtful way you approached the case study.",
                    "Everyone you met was excited about what you would bring to the team.",
                    "You will be working closely with {colleague}, who is looking forward to having you on board.",
                ),
                (
                    "You will receive the formal offer letter and contract in a separate email shortly.",
                    "Please review the attached offer letter and let us know your decision by {soon_day}.",
                    "Could you confirm by {soon_day} whether you would like to accept?",
                ),
            ),
            "close": (
                "We are very excited about the possibility of you joining us.",
                "Please reach out if you have any questions about the offer.",
                "We cannot wait to welcome you to the team.",
            ),
        },
    ),
    "invoice_reminder": (
        {
            "role_group": "finance", "reply_p": 0.4,
            "instructions": (
                "Send a friendly reminder to {name} at {rcompany} that invoice {invoice} for {amount} is due on {day}.",
                "Remind {rfull} about the upcoming payment for invoice {invoice}, be polite.",
                "Write a gentle payment reminder for invoice {invoice}, amount {amount}, due {day}.",
            ),
            "input": (
                "Thanks for sending over the invoice for the {project}.",
                "I have forwarded it to our accounts team.",
                "Let me know if you need a purchase order number from us.",
            ),
            "open": (
                "I wanted to send a quick reminder about invoice {invoice}.",
                "This is a friendly reminder that invoice {invoice} for {amount} is due on {day}.",
                "Just a quick note to let you know that payment for invoice {invoice} is coming up.",
            ),
            "body": (
                (
                    "The total amount due is {amount}, and the payment date is {day}.",
                    "The invoice covers the work completed on the {project} during {past_month}.",
                ),
                (
                    "You can pay by bank transfer or card using the link in the original invoice.",
                    "Payment details are included at the bottom of the invoice for your convenience.",
                ),
                (
                    "If the payment is already on its way, please disregard this message.",
                    "If you have any questions about the charges, I am happy to go through them with you.",
                ),
            ),
            "close": ("Thank you for your business.", "Thanks so much, and have a great week."),
        },
        {
            "role_group": "finance", "reply_p": 0.65,
            "instructions": (
                "Invoice {invoice} for {amount} is now {ndays} weeks overdue, write a firmer reminder to {name} asking for payment by {soon_day}.",
                "Second reminder to {rcompany} about unpaid invoice {invoice}, mention late fees politely.",
                "Follow up with {name} about the overdue invoice {invoice}, ask if there is an issue with it.",
            ),
            "input": (
                "Apologies for the delay on our side.",
                "Our finance team is processing payments this week.",
                "I will check on the status and get back to you.",
            ),
            "reply_open": ("Thanks for the update on the payment.", "Thank you for letting me know about the delay."),
            "open": (
                "I am following up on invoice {invoice} for {amount}, which was due on {past_day}.",
                "Our records show that invoice {invoice} is now past due.",
            ),
            "body": (
                (
                    "We have not yet received payment, and the balance of {amount} remains outstanding.",
                    "As of today, the outstanding balance is {amount}.",
                ),
                (
                    "Could you please arrange payment by {soon_day}?",
                    "We would appreciate it if the payment could be completed by {soon_day}.",
                ),
                (
                    "Please note that a late fee of {pct} may apply to balances overdue by more than thirty days.",
                    "If there is an issue with the invoice, please let me know so we can resolve it quickly.",
                ),
                ("I have attached a copy of the invoice for easy reference.",),
            ),
            "close": (
                "Thank you for your prompt attention to this matter.",
                "We value our work together and appreciate your help in resolving this.",
            ),
        },
    ),
    "introduction": (
        {
            "role_group": "general", "reply_p": 0.4,
            "instructions": (
                "Introduce {name} to my colleague {colleague}, they both work on {topic} and should talk.",
                "Write an intro email connecting {rfull} from {rcompany} with {colleague}, who is hiring a {job}.",
                "Make a warm introduction between {name} and {colleague} about a possible collaboration on {topic}.",
            ),
            "input": (
                "I am looking to meet more people working on {topic}.",
                "If anyone comes to mind, I would really appreciate an introduction.",
            ),
            "open": (
                "I wanted to introduce you to {colleague}, who I think you would really enjoy talking to.",
                "I am delighted to connect you with {colleague}, a good friend and former colleague.",
            ),
            "body": (
                (
                    "{colleague} leads our work on {topic} and has built some impressive things over the past year.",
                    "{colleague} has spent the last few years focused on {topic} and is always happy to compare notes.",
                ),
                (
                    "Given your work at {rcompany}, I think there is real potential for a collaboration.",
                    "You both have been thinking about similar problems, so I thought an intro would be valuable.",
                    "{colleague} is currently hiring a {job}, and you came to mind right away.",
                ),
                (
                    "I will let you two take it from here.",
                    "I have copied {colleague} on this email so you can find a time to chat.",
                ),
            ),
            "close": ("Hope you both get a chance to connect soon.", "Enjoy the conversation!"),
        },
        {
            "role_group": "sales", "reply_p": 0.5,
            "instructions": (
                "Introduce myself to {name}, the new {rrole} at {rcompany}, as their main contact on our side.",
                "Write an email introducing myself as the new account manager for {rcompany}, offer a kickoff call.",
                "Send a short hello to {rfull} at {rcompany}, I'm taking over their account from {colleague}.",
            ),
            "input": (
                "I heard that {colleague} is moving to a new role.",
                "Who will be our main contact going forward?",
            ),
            "open": (
                "My name is {me_first}, and I will be your main point of contact at {company} going forward.",
                "I wanted to introduce myself as your new contact at {company}, working with the {rcompany} team.",
            ),
            "body": (
                (
                    "I have taken over from {colleague}, who has moved on to a new role within the company.",
                    "I am joining the account as we head into {quarter}, and I am excited to work with you.",
                ),
                (
                    "I would love to learn more about your priorities for the {project}.",
                    "My goal is to make sure the {product} keeps delivering value for your team.",
                ),
                (
                    "Would you be open to a short kickoff call on {day}?",
                    "Could we find {duration} next week for a quick introduction?",
                ),
            ),
            "close": ("Looking forward to working together.", "I am glad to be on board."),
        },
    ),
    "networking": (
        {
            "role_group": "general", "reply_p": 0.5,
            "instructions": (
                "Follow up with {name}, who I met at the {event}, and suggest staying in touch.",
                "Write a networking email to {rfull} from {rcompany}, we talked about {topic} at the {event}.",
                "Reach out to {name} after the {event} and ask for a short call about opportunities in {topic}.",
            ),
            "input": (
                "It was a pleasure chatting at the {event}.",
                "Let me know if you are ever in {city}, I would be happy to grab a coffee.",
            ),
            "open": (
                "It was great meeting you at the {event} on {past_day}.",
                "I really enjoyed our conversation about {topic} at the {event}.",
            ),
            "body": (
                (
                    "Your thoughts on building teams in {topic} stuck with me on the way home.",
                    "I have been thinking about your point on how fast {topic} is changing.",
                ),
                (
                    "I would love to stay in touch and hear more about what you are working on at {rcompany}.",
                    "If you are open to it, I would love to continue the conversation over coffee.",
                ),
                (
                    "Would you have {duration} for a call sometime next week?",
                    "I will be in {city} on {day} if you are free for a quick coffee.",
                ),
                ("I also have a few contacts in {topic} who might be interesting for you to meet.",),
            ),
            "close": ("Looking forward to staying in touch.", "Hope to talk soon."),
        },
        {
            "role_group": "general", "reply_p": 0.0,
            "instructions": (
                "Write a networking message to {rfull}, {rrole} at {rcompany}, asking for advice on moving into {topic}.",
                "Reach out to {name} who went to my university and works in {topic}, ask for a quick chat.",
            ),
            "open": (
                "I came across your profile while researching {topic}, and I was impressed by your path.",
                "We both studied at the same university, and I noticed you have built a great career in {topic}.",
            ),
            "body": (
                (
                    "I am currently working at {company} and exploring a move into {topic}.",
                    "I am trying to learn more about how teams at companies like {rcompany} approach {topic}.",
                ),
                (
                    "Would you be open to a {duration_adj} chat sometime in the coming weeks?",
                    "I would really value your perspective, even in a short call.",
                ),
                ("I know your time is valuable, so I am happy to work around your schedule.",),
            ),
            "close": ("Thank you so much for considering it.", "Thanks in advance, and I hope to connect."),
        },
    ),
    "feedback_request": (
        {
            "role_group": "support", "reply_p": 0.4,
            "instructions": (
                "Ask {name} at {rcompany} for feedback on the {product} after their first month.",
                "Write an email asking customer {rfull} to fill out a short survey about their experience with our {product}.",
                "Request feedback from {name} on how the rollout of {feature} went for their team.",
            ),
            "input": (
                "We have been using the {product} for a few weeks now.",
                "Overall the team is happy, but we have a couple of ideas for improvements.",
            ),
            "open": (
                "It has been about a month since your team started using the {product}, and we would love to hear how it is going.",
                "We are always looking to improve, and your feedback on the {product} would mean a lot to us.",
            ),
            "body": (
                (
                    "In particular, we would like to know how the rollout of {feature} has gone for your team so far.",
                    "We are especially curious whether the {product} has saved your team time each week.",
                ),
                (
                    "The survey only takes about five minutes to complete.",
                    "If you prefer, we could also set up a {duration_adj} call instead of the survey.",
                ),
                (
                    "Your input will directly shape our roadmap for {quarter}.",
                    "As a thank you, we will extend your current plan by one month.",
                ),
            ),
            "close": ("Thank you for helping us improve.", "We really appreciate your time."),
        },
        {
            "role_group": "general", "reply_p": 0.45,
            "instructions": (
                "Ask {name} for feedback on {deliverable} before I send it to the leadership team on {day}.",
                "Write to my colleague {name} requesting honest feedback on my presentation from {past_day}.",
                "Ask {rfull} to review {deliverable} and send comments by {soon_day}.",
            ),
            "input": (
                "Happy to help with anything you need for the {project}.",
                "Just send things my way when they are ready.",
            ),
            "open": (
                "Would you have some time to review {deliverable} before I share it with the leadership team?",
                "I would really value your honest feedback on {deliverable}.",
            ),
            "body": (
                (
                    "I am mainly looking for input on the structure and whether the key points are clear.",
                    "I am especially unsure about the section on the {project} budget.",
                ),
                (
                    "I need to send the final version on {day}, so any comments by {soon_day} would be great.",
                    "Even a few quick notes would be incredibly helpful.",
                ),
                (
                    "Happy to return the favor whenever you need a second pair of eyes.",
                    "Feel free to leave comments directly in the document.",
                ),
            ),
            "close": ("Thanks so much in advance.", "I really appreciate your help."),
        },
    ),
    "customer_support_reply": (
        {
            "role_group": "support", "reply_p": 0.95,
            "instructions": (
                "Reply to customer {name} who can't log in to their account, explain the password reset steps.",
                "Answer {rfull}'s support ticket {ticket} about login problems, apologize and give next steps.",
                "Write a support reply: customer locked out after too many login attempts, account unlocked now.",
            ),
            "input": (
                "I have been trying to log in to my account since yesterday, but it keeps saying my password is incorrect.",
                "I already tried resetting it twice, but I never received the reset email.",
                "This is urgent because my team needs access to our reports today.",
                "Can you please help me get back in?",
            ),
            "reply_open": (
                "Thank you for contacting us, and I am sorry for the trouble logging in.",
                "Thanks for reaching out about ticket {ticket}, and I apologize for the inconvenience.",
            ),
            "open": (
                "I have looked into your account, and it was temporarily locked after several unsuccessful login attempts.",
                "I checked your account and found that the password reset emails were being blocked by a spam filter.",
                "It looks like your account still had an old email address on file, which is why the reset link never reached you.",
                "Our logs show that your account was locked as a security precaution after a login from a new device.",
            ),
            "body": (
                (
                    "I have now unlocked your account, so you should be able to log in again.",
                    "I have manually sent a new reset link, which will be valid for the next hour.",
                    "I have updated the email address on your account and sent a fresh reset link to it.",
                    "Your access has been restored, and your team's reports are all available again.",
                ),
                (
                    "If the email does not arrive, please check your spam or promotions folder.",
                    "Once you are in, I recommend enabling two-factor authentication for extra security.",
                    "When you set a new password, please make sure it has at least twelve characters.",
                    "If your company uses single sign-on, you can also log in through the button on the main page.",
                ),
                (
                    "I have also added a note to ticket {ticket} in case you need to follow up.",
                    "If the problem continues, just reply to this email and I will escalate it to our engineering team.",
                    "I will keep ticket {ticket} open until {soon_day} to make sure everything works for you.",
                ),
            ),
            "close": ("Thank you for your patience.", "Please let me know if there is anything else I can help with."),
        },
        {
            "role_group": "support", "reply_p": 0.95,
            "instructions": (
                "Customer {name} was charged twice for their subscription, reply apologizing and confirming the refund of {fee}.",
                "Respond to ticket {ticket}: duplicate charge on invoice {invoice}, refund issued, takes five to seven business days.",
                "Write a reply to {rfull} about being billed twice this month, refund is on the way.",
            ),
            "input": (
                "I just noticed that I was charged twice for my subscription this month.",
                "The charge of {fee} appears two times on my statement.",
                "Can you please refund the duplicate payment as soon as possible?",
            ),
            "reply_open": (
                "Thank you for letting us know about the duplicate charge.",
                "Thanks for reaching out, and I am sorry about the billing error.",
            ),
            "open": (
                "I have reviewed your billing history and confirmed that you were charged twice for invoice {invoice}.",
                "You are right, the payment of {fee} was processed twice due to an error on our side.",
            ),
            "body": (
                (
                    "I have issued a full refund of {fee} for the duplicate charge.",
                    "The duplicate payment of {fee} has been refunded to your original payment method.",
                ),
                (
                    "Depending on your bank, it may take five to seven business days for the refund to appear.",
                    "You should see the refund on your statement within a week.",
                ),
                (
                    "We have also fixed the issue that caused the double charge, so it will not happen again.",
                    "As an apology, I have applied a one-month credit to your account.",
                ),
            ),
            "close": (
                "We appreciate your patience and your business.",
                "Please reach out if you do not see the refund by {day}.",
            ),
        },
        {
            "role_group": "support", "reply_p": 0.95,
            "instructions": (
                "Reply to {name} about the sync error in the mobile app, tell them the fix ships in the next update on {day}.",
                "Write a support response for ticket {ticket}: data not syncing between the web and mobile app, offer a workaround.",
                "Answer {rfull} from {rcompany} about their sync issue, explain it's a known bug and give a workaround.",
            ),
            "input": (
                "My data is not syncing between the web version and the mobile app.",
                "Changes I make on my phone do not show up on my laptop.",
                "Is this a known issue?",
            ),
            "reply_open": (
                "Thanks for reporting this, and sorry for the frustration.",
                "Thank you for the detailed description of the sync problem.",
            ),
            "open": (
                "Our team has identified a bug that affects syncing between the mobile app and the web version.",
                "You are not alone, as a small number of users are seeing the same sync issue this week.",
            ),
            "body": (
                (
                    "A fix is included in the next app update, which is scheduled for {day}.",
                    "Our engineers have already prepared a fix, and it will be released on {day}.",
                ),
                (
                    "In the meantime, logging out and back in on your phone should force a full sync.",
                    "As a workaround, you can pull down on the main screen to refresh your data manually.",
                ),
                (
                    "None of your data has been lost, and everything is safely stored on our servers.",
                    "I will update ticket {ticket} as soon as the fix is live.",
                ),
            ),
            "close": ("Thanks again for your patience.", "Let me know if the workaround helps."),
        },
    ),
    "event_invitation": (
        {
            "role_group": "sales", "reply_p": 0.3,
            "instructions": (
                "Invite {name} from {rcompany} to our {event} on {day} at {venue}, ask them to RSVP by {soon_day}.",
                "Write an invitation to the {event} for {rfull}, mention the keynote on {topic} and drinks after.",
                "Invite {name} to the {event} on {day} in {city}, keep it exciting but professional.",
            ),
            "input": (
                "Thanks for keeping me posted about your upcoming events.",
                "I would love to hear about anything happening in {city} this season.",
            ),
            "open": (
                "I would love to invite you to our {event} on {day} at {venue}.",
                "We are hosting our {event} on {day}, and it would be wonderful to have you there.",
                "You are warmly invited to join us for the {event} in {city} on {day}.",
            ),
            "body": (
                (
                    "The evening starts at {time} with a short keynote on {topic}, followed by drinks and networking.",
                    "We have a great lineup of speakers, including a session on {topic}.",
                ),
                (
                    "It is a great chance to meet other leaders from companies like {rcompany}.",
                    "Several of our customers and partners will be there, and I think you would enjoy meeting them.",
                ),
                (
                    "Please RSVP by {soon_day} so we can plan seating and catering.",
                    "Space is limited, so please let me know by {soon_day} if you can make it.",
                ),
                ("Feel free to bring a colleague along.",),
            ),
            "close": ("I hope you can join us.", "We would be delighted to see you there."),
        },
    ),
    "deadline_extension": (
        {
            "role_group": "general", "reply_p": 0.65,
            "instructions": (
                "Ask {name} for a {ndays}-day extension on {deliverable}, which is due {day}, because of delays from our vendor.",
                "Request more time from {rcompany} for the {project} milestone, propose {day2} as the new date.",
                "Email {name} to push the deadline for {deliverable} to {day2}, explain the data issue.",
            ),
            "input": (
                "Just a reminder that {deliverable} is due on {day}.",
                "Let me know if you have any questions before then.",
                "We are planning to review everything the following week.",
            ),
            "reply_open": ("Thanks for the reminder about the deadline.", "Thank you for checking in on {deliverable}."),
            "open": (
                "I wanted to ask whether it would be possible to extend the deadline for {deliverable}.",
                "I am writing to request a short extension on {deliverable}, currently due on {day}.",
            ),
            "body": (
                (
                    "We have run into unexpected delays with data from our vendor, which affects the final numbers.",
                    "Two team members were out sick this week, and we are a bit behind schedule.",
                    "We found an issue in the underlying data that we want to fix before sharing the results.",
                ),
                (
                    "Would it be possible to move the deadline to {day2}?",
                    "An extra {ndays} days would allow us to deliver the quality you expect.",
                ),
                (
                    "I can share a draft of the completed sections by {soon_day} so you can see our progress.",
                    "The rest of the {project} timeline would not be affected.",
                ),
            ),
            "close": (
                "I apologize for the inconvenience and appreciate your flexibility.",
                "Thank you for understanding.",
            ),
        },
    ),
    "partnership_proposal": (
        {
            "role_group": "sales", "reply_p": 0.5,
            "instructions": (
                "Propose a partnership to {name} at {rcompany}: co-marketing campaign for {quarter}, we share leads.",
                "Write a partnership pitch to {rfull}, integrating their platform with our {product}.",
                "Reach out to {rcompany} about a referral partnership, mention our {team_size} shared customers.",
            ),
            "input": (
                "We have been hearing good things about {company} from a few of our customers.",
                "I wonder whether there might be a way for our teams to work together.",
                "Let me know if you would be open to exploring this.",
            ),
            "reply_open": (
                "Thank you for reaching out, we have been thinking along the same lines.",
                "Great to hear from you, and thanks for the kind words about {company}.",
            ),
            "open": (
                "I am reaching out because I believe there is a great opportunity for {company} and {rcompany} to work together.",
                "I have been following {rcompany} for a while, and I see a strong fit between our products.",
            ),
            "body": (
                (
                    "We would like to propose a co-marketing campaign in {quarter}, including a joint webinar and shared content.",
                    "An integration between your platform and our {product} would solve a problem many of our customers mention.",
                    "We already share around {team_size} customers, which suggests a referral partnership could benefit both sides.",
                ),
                (
                    "Our team would take care of the initial build and marketing materials.",
                    "We are happy to start small with a pilot and measure the results together.",
                ),
                (
                    "Would you be open to a {duration_adj} call on {day} to explore this further?",
                    "I would love to set up a short call with your partnerships team.",
                ),
            ),
            "close": ("Looking forward to exploring this together.", "Thank you for considering the idea."),
        },
    ),
}

# Relative popularity of the specific templates (the "general" share is set in the generator).
TEMPLATE_WEIGHTS = {
    "candidate_rejection": 1.0, "meeting_request": 1.4, "follow_up": 1.5, "sales_outreach": 1.1,
    "thank_you": 1.2, "apology": 1.0, "job_offer": 0.7, "invoice_reminder": 0.8, "introduction": 0.8,
    "networking": 0.8, "feedback_request": 0.8, "customer_support_reply": 1.4, "event_invitation": 0.7,
    "deadline_extension": 0.8, "partnership_proposal": 0.7,
}

# --------------------------------------------------------------------------------------------
# "general" template: free-form topics
# --------------------------------------------------------------------------------------------

GENERAL_TOPICS = {
    "landlord_heater": {
        "reply_p": 0.75,
        "slots": {"appliance": ("heater", "radiator", "boiler", "heating system")},
        "instructions": (
            "Write to my landlord {name} that the {appliance} in my apartment stopped working on {past_day} and ask when it can be repaired.",
            "Email my landlord about the broken {appliance} in {unit}, it's been cold for {ndays} days, stay polite but firm.",
            "Tell {name} the landlord that the {appliance} is broken again and I need someone to come fix it this week.",
        ),
        "input": (
            "Just a reminder that the building inspection is scheduled for next month.",
            "Let me know if anything in the apartment needs attention before then.",
            "I will be out of town until {day}, but my property manager can help in the meantime.",
        ),
        "reply_open": ("Thanks for the heads-up about the inspection.", "Thank you for your message."),
        "open": (
            "I am writing to let you know that the {appliance} in {unit} stopped working on {past_day}.",
            "I wanted to report a problem with the {appliance} in my apartment, {unit}.",
            "Unfortunately, the {appliance} in {unit} has not been working since {past_day}.",
        ),
        "body": (
            (
                "The apartment has been getting very cold, especially at night.",
                "I tried resetting it and checking the thermostat, but it still does not turn on.",
                "It makes a loud clicking noise for a few minutes and then shuts off completely.",
            ),
            (
                "Could you please arrange for a repair technician to come by this week?",
                "I would really appreciate it if someone could take a look as soon as possible.",
                "Please let me know when a repair person can stop by.",
            ),
            (
                "I am home most evenings after {time}, and I can also leave a key with the front desk.",
                "I am available on {day} and {day2} if that helps with scheduling.",
                "I am happy to give access any weekday morning if you let me know in advance.",
            ),
        ),
        "close": (
            "Thank you for your help with this.", "Thanks in advance for sorting this out quickly.",
            "I appreciate your quick attention to this.",
        ),
    },
    "cover_shift": {
        "reply_p": 0.75,
        "slots": {"shift": ("morning", "evening", "closing", "opening", "night")},
        "instructions": (
            "Ask my coworker {name} if they can cover my shift on {day}, I have a family event.",
            "Write a quick message to {name} asking to swap shifts on {day}, offer to take one of theirs next week.",
            "Need {name} to cover my {shift} shift on {day}, make it casual and say thanks in advance.",
        ),
        "input": ("Are you working this weekend?", "I might need to swap a shift at some point this month."),
        "open": (
            "I was wondering if you might be able to cover my {shift} shift on {day}.",
            "Would you be able to take my {shift} shift on {day}?",
            "I have a favor to ask about my {shift} shift on {day}.",
        ),
        "body": (
            (
                "I have a family event that I cannot move, and I only found out about it this week.",
                "I have a doctor's appointment that I could not reschedule.",
                "My sister is graduating that day, and I would really like to be there.",
            ),
            (
                "I would be happy to take one of your shifts next week in return.",
                "I can cover any of your shifts on {day2} if that helps.",
                "Of course, I will return the favor whenever you need it.",
            ),
            (
                "I have already checked with {colleague}, and they said it is fine as long as someone covers.",
                "The shift starts at {time}, and everything should be pretty quiet.",
                "I will leave notes on the open tasks so you are all set.",
            ),
        ),
        "close": (
            "Totally understand if you can't, just let me know either way.",
            "Thanks so much for considering it.", "Let me know if that works for you.",
        ),
    },
    "congratulate_friend": {
        "reply_p": 0.75, "generic_close": False,
        "slots": {"milestone": ("new job", "promotion", "engagement", "graduation", "new home", "first marathon", "book deal")},
        "instructions": (
            "Write a message congratulating my friend {name} on their {milestone}, warm and a bit playful.",
            "Congratulate {name} on the {milestone}, suggest we celebrate over dinner.",
            "Send {name} a congratulations email for the {milestone}, keep it heartfelt.",
            "My friend {name} just shared news about their {milestone}, write something sweet and suggest meeting up on {day}.",
        ),
        "input": (
            "I have some big news to share with you!",
            "I wanted you to hear it from me first before I post anything online.",
            "It still does not feel real, to be honest.",
        ),
        "reply_open": (
            "Your message made my whole week!", "I was so excited to read your news.",
            "I had to read your message twice because I was so happy.",
        ),
        "open": (
            "Congratulations on your {milestone}!",
            "I just heard the news about your {milestone}, and I am so happy for you.",
            "What amazing news about your {milestone}!",
            "I could not stop smiling when I heard about your {milestone}.",
        ),
        "body": (
            (
                "You have worked so hard for this, and you truly deserve it.",
                "I still remember you talking about this over coffee last spring, and now it is real.",
                "Everyone who knows you knows how much this means to you.",
                "After everything you went through this year, nobody deserves it more than you.",
                "Watching you chase this over the past few years has been genuinely inspiring.",
            ),
            (
                "We need to celebrate properly, so let me take you out to dinner soon.",
                "Let's get together soon to celebrate, maybe on {day}?",
                "I cannot wait to hear all about it when we catch up.",
                "The first round is on me the next time we are in {city} together.",
            ),
            (
                "Please say hello to {colleague} for me.",
                "I hope you take a moment to enjoy it before the busy weeks ahead.",
                "Your family must be so proud of you right now.",
                "I have a feeling this is only the beginning of something great.",
            ),
        ),
        "close": (
            "I am so proud of you.", "Congratulations again, you deserve every bit of this.",
            "Enjoy this moment, you earned it.", "Sending you the biggest hug.",
        ),
    },
    "recommendation_letter": {
        "reply_p": 0.75,
        "greetings": ("Dear Professor {rlast},", "Hello Professor {rlast},", "Dear Dr. {rlast},"),
        "slots": {
            "course": ("Data Structures", "Organic Chemistry", "Intro to Microeconomics",
                       "Modern European History", "Statistical Methods", "Cognitive Psychology"),
            "program": ("master's program in public policy", "PhD program in computer science",
                        "summer research fellowship", "graduate program in data science", "MBA program"),
        },
        "instructions": (
            "Ask Professor {rlast} for a recommendation letter for my application to the {program}, the deadline is {day}.",
            "Email my former professor {rfull} asking if they would write me a reference letter, I took their {course} class.",
            "Write a polite request to Professor {rlast} for a letter of recommendation, mention the {course} course and my final project.",
        ),
        "input": (
            "Thank you for your note about the {program}.",
            "Please send me more details about the application when you can.",
        ),
        "open": (
            "I took your {course} course last year, and I am now applying to the {program}.",
            "I am writing to ask whether you would be willing to write a letter of recommendation for my application to the {program}.",
            "I greatly enjoyed your {course} class, and I am reaching out with a request regarding my application to the {program}.",
        ),
        "body": (
            (
                "Your course was one of the most formative experiences of my studies, especially the final research project.",
                "I really valued your feedback on my final project, which sparked my interest in this field.",
                "Working on the term paper in your class helped me decide to pursue this path.",
            ),
            (
                "The application deadline is {day}, and the letter can be submitted through the online portal.",
                "Letters are due by {day}, and I would be happy to send reminders closer to the date.",
            ),
            (
                "I can share my resume, transcript, and statement of purpose to make the process easier.",
                "I would be glad to meet during your office hours if you would like to discuss my goals.",
            ),
        ),
        "close": (
            "Thank you very much for considering my request.",
            "I completely understand if your schedule does not allow it.",
            "Thank you for your time and for everything I learned in your class.",
        ),
    },
    "airline_delay": {
        "reply_p": 0.0, "greetings": FORMAL_GREETINGS,
        "slots": {"name": ("Customer Relations Team", "Customer Care Team", "Passenger Services Team")},
        "instructions": (
            "Write a complaint to {airline} about my flight {flight} on {past_day} that was delayed by {hours} hours, ask for compensation.",
            "Complain to the airline, flight {flight} was delayed overnight and nobody gave us hotel vouchers. Firm but polite.",
            "Email {airline} customer service about the {hours} hour delay on {flight}, I missed my connection.",
        ),
        "open": (
            "I am writing to file a complaint regarding {airline} flight {flight} on {past_day}.",
            "I was a passenger on flight {flight} on {past_day}, which was delayed by more than {hours} hours.",
        ),
        "body": (
            (
                "We were kept at the gate for hours with very little information from the staff.",
                "The delay was announced only after boarding, and updates were sporadic at best.",
            ),
            (
                "As a result, I missed my connection and an important meeting the next morning.",
                "I had to pay for a hotel room and meals myself, which came to {fee}.",
            ),
            (
                "I would like to request compensation for the delay and a refund of my additional expenses.",
                "I believe I am entitled to compensation under your passenger policy and would appreciate a prompt review.",
            ),
            ("My booking reference is {booking}.",),
        ),
        "close": (
            "I look forward to your response within the next two weeks.",
            "Thank you for looking into this matter.",
        ),
    },
    "airline_luggage": {
        "reply_p": 0.0, "greetings": FORMAL_GREETINGS,
        "slots": {
            "name": ("Baggage Services Team", "Customer Care Team", "Lost Baggage Team"),
            "bag": ("a dark blue suitcase", "a black carry-on", "a grey duffel bag", "a red hard-shell suitcase"),
        },
        "instructions": (
            "Complain to {airline} that my checked bag never arrived after flight {flight} on {past_day}, ask for an update and reimbursement.",
            "Write to the airline about my lost luggage from {flight}, it's been {ndays} days and no one answers the phone.",
            "Email {airline} baggage services, my suitcase is still missing, booking {booking}, I need essentials reimbursed.",
        ),
        "open": (
            "I am writing about my checked baggage, which did not arrive after {airline} flight {flight} on {past_day}.",
            "My luggage has been missing since I landed on flight {flight} on {past_day}.",
        ),
        "body": (
            (
                "The bag is {bag} with a name tag on the handle.",
                "I filed a report at the airport, but I have not received any updates since.",
            ),
            (
                "I have had to buy clothes and toiletries in the meantime, which came to {fee}.",
                "It has now been {ndays} days, and my calls to the baggage line have gone unanswered.",
            ),
            (
                "Please let me know the status of the search and how I can submit my receipts for reimbursement.",
                "I would appreciate it if the bag could be delivered to my home address as soon as it is found.",
            ),
            ("My booking reference is {booking}.",),
        ),
        "close": ("Thank you for your prompt help.", "I look forward to your reply."),
    },
    "neighbor_noise": {
        "reply_p": 0.75,
        "slots": {"late_time": ("10 pm", "11 pm", "midnight")},
        "instructions": (
            "Write a friendly note to my neighbor {name} about the loud music late at night, I don't want to start a fight.",
            "Ask my upstairs neighbor {name} to keep the noise down after {late_time}, I have early shifts.",
            "Message to my neighbor {name} about noise from their apartment on weeknights, polite and understanding.",
        ),
        "input": ("Just wanted to say hi, we moved in upstairs last month.", "Let us know if you ever need anything."),
        "open": (
            "I hope you are settling in well, and I wanted to reach out about something that has been on my mind.",
            "I hope you don't mind me reaching out about a small issue with noise in the evenings.",
            "I am your neighbor from {unit}, and I wanted to mention something in a friendly way.",
        ),
        "body": (
            (
                "Over the past few weeks, the music has been quite loud after {late_time} on weeknights.",
                "Lately, I have been hearing loud music and footsteps until well after {late_time}.",
            ),
            (
                "I start work very early, so it has been tough to get enough sleep.",
                "The walls in our building are thinner than they look, so sound carries a lot.",
            ),
            (
                "Would you mind keeping things a bit quieter after {late_time} on weekdays?",
                "If you could turn it down a little in the late evenings, I would really appreciate it.",
            ),
            ("Weekends are totally fine, of course.", "Please let me know if anything from my side ever bothers you too."),
        ),
        "close": ("Thanks so much for understanding.", "I really appreciate it, and I hope to say hello in person soon."),
    },
    "gym_cancel": {
        "reply_p": 0.0, "greetings": FORMAL_GREETINGS,
        "slots": {
            "name": ("Membership Team", "Member Services Team", "Front Desk Team"),
            "gym": ("Peak Fitness", "Ironworks Gym", "Riverside Athletic Club", "Pulse Studio", "Summit Climbing Hall", "Core Yoga Loft"),
        },
        "instructions": (
            "Write an email to {gym} to cancel my membership effective end of this month, member number {member_id}.",
            "Cancel my gym membership at {gym}, I'm moving to {city}, ask them to confirm in writing.",
            "Email the gym asking to cancel my membership and stop the monthly charges of {fee}.",
            "Tell {gym} I want to end my membership after {month}, and ask whether I owe anything for the notice period.",
        ),
        "open": (
            "I would like to cancel my membership at {gym}, effective at the end of this month.",
            "I am writing to request the cancellation of my {gym} membership under member number {member_id}.",
            "Please accept this email as notice that I wish to end my membership at {gym}.",
            "I have decided to cancel my {gym} membership, member number {member_id}.",
        ),
        "body": (
            (
                "I am relocating to {city} for work, so I will no longer be able to use the facilities.",
                "My schedule has changed significantly, and I am not able to visit regularly anymore.",
                "Due to a recent injury, I will not be able to train for the next several months.",
                "I have started working from a different office, and the commute no longer makes it practical.",
            ),
            (
                "Please make sure that the monthly charge of {fee} is stopped after the final billing period.",
                "Please confirm that no further payments will be taken from my account.",
                "Could you let me know whether any fees apply for the remaining notice period?",
            ),
            (
                "I would appreciate a written confirmation of the cancellation for my records.",
                "If there is a form I need to sign, please send it to me and I will return it promptly.",
                "I am happy to return my access card at the front desk if needed.",
            ),
            (
                "I have really enjoyed the classes, especially the {weekday} evening sessions.",
                "The trainers have been wonderful, and I would recommend the gym to anyone.",
            ),
        ),
        "close": ("Thank you for your help.", "Thanks for processing this quickly.", "Thank you for understanding."),
    },
    "doctor_reschedule": {
        "reply_p": 0.75, "greetings": FORMAL_GREETINGS,
        "slots": {"name": ("Appointments Team", "Front Desk Team", "Scheduling Team")},
        "instructions": (
            "Ask the clinic to reschedule my appointment on {day} at {time}, something came up at work.",
            "Email the dental office to move my checkup from {day} to any time the following week.",
            "Write to the doctor's office to reschedule my {time} appointment, I'm flexible in the mornings.",
        ),
        "input": (
            "This is a reminder of your appointment on {day} at {time}.",
            "Please reply to this message if you need to make any changes.",
        ),
        "reply_open": ("Thank you for the reminder.", "Thanks for the appointment reminder."),
        "open": (
            "I have an appointment scheduled for {day} at {time}, and unfortunately I need to reschedule.",
            "I am writing to ask if I could move my appointment on {day} at {time} to another date.",
        ),
        "body": (
            (
                "An urgent work commitment came up that I cannot move.",
                "I will be traveling for work that week.",
                "My childcare arrangements fell through for that day.",
                "I have been asked to attend a training session that I cannot skip.",
            ),
            (
                "I am flexible on mornings the following week, and {day2} would be ideal.",
                "Any time after {time2} on weekdays would work well for me.",
                "I could also come in on {day2} at {time2} if that slot is free.",
                "Early morning appointments are usually easiest for me.",
            ),
            (
                "I am sorry for the short notice and hope this does not cause any trouble.",
                "Please let me know if there is a cancellation fee so I can take care of it.",
                "If there is a waiting list for earlier slots, I would be happy to be added to it.",
                "I can also confirm the new time by phone if that is easier for your team.",
            ),
        ),
        "close": ("Thank you for your understanding.", "Thanks very much for your help."),
    },
    "team_lunch": {
        "reply_p": 0.0,
        "greetings": ("Hi team,", "Hello everyone,", "Hey team,", "Hi all,"),
        "slots": {"restaurant": ("Olive and Thyme", "The Green Fork", "Harbor Grill", "Blue Door Kitchen", "Maple Street Bistro")},
        "instructions": (
            "Invite my team to a lunch on {day} to celebrate finishing the {project}, my treat.",
            "Write an invite for a team lunch at {restaurant} on {day} at {time}, ask people to reply by {soon_day}.",
            "Team lunch invite for {day} to say thanks for the hard work on the {project}, mention remote folks get delivery.",
        ),
        "open": (
            "To celebrate wrapping up the {project}, I would like to take everyone out for lunch on {day}.",
            "I am excited to invite you all to a team lunch on {day} at {time} to mark the end of the {project}.",
        ),
        "body": (
            (
                "We will be going to {restaurant}, which is just a short walk from the office.",
                "I have booked a table at {restaurant} for {time}.",
                "The plan is to meet at {restaurant} at {time}, and the back room is reserved for us.",
                "We will head over to {restaurant} together from the lobby at {time}.",
            ),
            (
                "Lunch is on me, as a small thank you for all the hard work over the last few months.",
                "The company is covering the bill, so please come hungry.",
                "It has been an intense few months, and you all deserve a proper break.",
                "This is just a small way of saying thank you for pulling together on the {project}.",
            ),
            (
                "Please let me know by {soon_day} if you can make it, and mention any dietary restrictions.",
                "Reply to this email by {soon_day} so I can confirm the reservation.",
                "A quick yes or no by {soon_day} would help me confirm the headcount.",
                "Please tell me by {soon_day} if you have any allergies so I can let the restaurant know.",
            ),
            ("Remote folks, I will arrange lunch delivery for you as well.",),
        ),
        "close": ("Looking forward to celebrating with all of you.", "See you there!"),
    },
    "sick_day": {
        "reply_p": 0.0, "generic_close": False,
        "instructions": (
            "Tell my manager {name} I'm sick today and won't be in, mention that {colleague} can handle the client call.",
            "Write a short sick day email to {name}, I have a fever and will check messages only occasionally.",
            "Let {name} know I need to take a sick day today and that my deadlines are covered.",
            "Email {name} that I have a migraine and need to log off for the day, the {project} update can wait until {soon_day}.",
        ),
        "open": (
            "I wanted to let you know that I am feeling unwell today and will not be able to work.",
            "Unfortunately, I woke up with a fever this morning and need to take a sick day.",
            "I am sorry for the short notice, but I have come down with something and need to stay home today.",
            "I have a bad migraine this morning, so I am going to take the day off to rest.",
        ),
        "body": (
            (
                "{colleague} has kindly agreed to cover the client call at {time}.",
                "I have moved my meetings for today and let the attendees know.",
                "I already asked {colleague} to step in for the {time} check-in.",
                "There is nothing urgent on my calendar today, apart from a short sync at {time} that can be moved.",
            ),
            (
                "I will check my messages occasionally in case anything urgent comes up.",
                "I expect to be back tomorrow, but I will keep you posted.",
                "I will be offline for most of the day, but I can answer a quick text if something is on fire.",
                "If I am still not feeling well tomorrow morning, I will let you know by {time}.",
            ),
            (
                "Everything for the {project} is on track, and nothing is due until {day}.",
                "The {project} update can wait until {soon_day} without affecting the timeline.",
                "My notes for {deliverable} are in the shared folder if anyone needs them.",
            ),
        ),
        "close": ("Thank you for understanding.", "Sorry again for the short notice.", "Thanks for being flexible."),
    },
    "vacation_request": {
        "reply_p": 0.0,
        "instructions": (
            "Ask my manager {name} for vacation from {day} to {day2}, explain that my projects will be covered.",
            "Write a PTO request for {ndays} days starting {day}, mention handover to {colleague}.",
            "Request time off around {day} for a family trip, polite and concise.",
        ),
        "open": (
            "I would like to request time off from {day} through {day2}.",
            "I am planning a family trip and would like to request {ndays} days of vacation starting {day}.",
        ),
        "body": (
            (
                "I have checked the team calendar, and it looks like a quieter period for our projects.",
                "I made sure the dates do not overlap with the {project} launch.",
            ),
            (
                "{colleague} has agreed to cover my responsibilities while I am away.",
                "I will prepare a detailed handover document before I leave.",
            ),
            (
                "I will be reachable by phone for anything truly urgent.",
                "I will set up an out-of-office reply and make sure clients know who to contact.",
            ),
        ),
        "close": ("Please let me know if these dates work for you.", "Thank you for considering my request."),
    },
    "refund_request": {
        "reply_p": 0.75, "greetings": FORMAL_GREETINGS,
        "slots": {
            "name": ("Customer Service Team", "Support Team", "Returns Team"),
            "store": ("Harbor Home Goods", "Peakline Outdoor", "Urban Thread", "Gadget Grove"),
            "item": ("pair of wireless headphones", "winter jacket", "coffee grinder", "desk lamp", "blender", "backpack"),
            "problem": ("arrived damaged", "stopped working after two days", "is not what was shown on the website"),
        },
        "instructions": (
            "Request a refund from {store} for the {item} I ordered, it {problem}. Order {order}.",
            "Email {store} asking for my money back for order {order}, the {item} {problem}.",
            "Write a refund request for a {item} from order {order}, I paid {fee} and it {problem}.",
        ),
        "input": (
            "Thank you for shopping with {store}.",
            "Your order {order} has been delivered.",
            "Let us know if there is anything we can help with.",
        ),
        "open": (
            "I am writing to request a refund for order {order}.",
            "I am contacting you about my recent order {order} from {store}.",
        ),
        "body": (
            (
                "Unfortunately, the {item} {problem}, so I am not able to use it.",
                "I was really looking forward to using it, but the {item} {problem}.",
            ),
            ("I paid {fee} for the item, including shipping.", "The total charged to my account was {fee}."),
            (
                "I would like a full refund to my original payment method.",
                "I would prefer a refund rather than a replacement.",
            ),
            (
                "I have attached photos and my receipt for your reference.",
                "Please let me know if I need to ship the item back and whether a return label will be provided.",
            ),
        ),
        "close": ("Thank you for your help in resolving this.", "I look forward to your reply."),
    },
    "teacher_meeting": {
        "reply_p": 0.75,
        "slots": {"child": ("Ella", "Noah", "Mia", "Leo", "Ruby", "Theo", "Ava", "Max")},
        "instructions": (
            "Ask {child}'s teacher {name} for a short parent-teacher meeting next week, I'm worried about homework stress.",
            "Email {rfull}, my kid {child}'s teacher, to set up a meeting about reading progress.",
            "Write to {child}'s teacher asking for a meeting about how they are doing in class this term.",
        ),
        "input": (
            "{child} had a great week in class.",
            "We are starting a new reading unit next Monday.",
            "Please let me know if you have any questions.",
        ),
        "open": (
            "I am {child}'s parent, and I was hoping we could find a time to meet.",
            "I wanted to reach out about {child}'s progress in your class this term.",
        ),
        "body": (
            (
                "{child} has been finding the homework quite stressful lately, and I would like to understand how I can help at home.",
                "We noticed that {child} has been less excited about reading recently.",
            ),
            (
                "Would you have time for a short meeting on {day} after school?",
                "I am available most afternoons after {time}, or we could talk by phone.",
            ),
            ("We really appreciate everything you do for the class, and {child} often talks about your science projects.",),
        ),
        "close": ("Thank you for your time and support.", "Looking forward to speaking with you."),
    },
    "volunteer_signup": {
        "reply_p": 0.75,
        "slots": {"org": ("Riverside Food Bank", "Greenfield Animal Shelter", "Eastside Community Garden", "Literacy Partners", "Harbor Youth Sports League", "Northside Senior Center")},
        "instructions": (
            "Email {name} at {org} to sign up as a weekend volunteer, I'm available starting {day}.",
            "Write to the volunteer coordinator at {org} saying I'd like to help, mention I have experience with event logistics.",
            "Offer to volunteer with {org} a few hours a week, ask what the onboarding looks like.",
            "Ask {name} whether {org} needs extra hands for the holiday season, I can help on {weekday} evenings.",
        ),
        "input": (
            "Thank you for your interest in volunteering with {org}.",
            "We are always looking for new helpers.",
            "Our next orientation session is coming up soon.",
        ),
        "open": (
            "I am interested in volunteering with {org} and wanted to ask about the next steps.",
            "I recently learned about the work {org} does in our community, and I would love to help.",
            "A friend of mine volunteers with {org}, and her stories convinced me to get involved.",
            "I would like to offer a few hours a week to support {org}.",
        ),
        "body": (
            (
                "I am available most weekends starting {day}, and I can also help on {weekday} evenings.",
                "I can commit to around four hours a week.",
                "My schedule is most flexible on {weekday} evenings and Saturday mornings.",
                "I could start as soon as {day} and help through the end of the year.",
            ),
            (
                "I have previous experience coordinating logistics for community events.",
                "In my current role at {company}, I spend a lot of time organizing people and schedules.",
                "I am comfortable with heavy lifting, driving, or simply helping wherever I am needed.",
                "I have helped run fundraising events before and enjoy working with the public.",
            ),
            (
                "Is there an orientation session I should sign up for?",
                "Please let me know if there is any paperwork or training I need to complete first.",
                "Could you tell me what a typical volunteer shift looks like?",
            ),
        ),
        "close": ("Thank you for all the work you do.", "I look forward to hearing from you.", "Thanks, and I hope to meet the team soon."),
    },
    "birthday_wishes": {
        "reply_p": 0.0, "generic_close": False,
        "instructions": (
            "Write a birthday message to my colleague {name}, fun but office appropriate.",
            "Happy birthday email for {name} from the whole {team} team, mention cake in the kitchen at {time}.",
            "Birthday note for {name}, thank them for being a great teammate this year.",
            "Write a short happy birthday email to {name}, mention the {project} and that lunch on {weekday} is on us.",
        ),
        "open": (
            "Happy birthday! I hope your day is as great as you are.",
            "Wishing you a very happy birthday from all of us on the {team} team.",
            "Happy birthday to the person who keeps the {team} team running!",
            "Another year, another reason to celebrate you, so happy birthday!",
        ),
        "body": (
            (
                "Thank you for always bringing so much energy and kindness to the office.",
                "This team would not be the same without your humor and your spreadsheets.",
                "The way you carried the {project} this year was nothing short of heroic.",
                "Your calm in every crisis this year has not gone unnoticed.",
                "You make even the longest planning meetings feel a little lighter.",
            ),
            (
                "There is cake in the kitchen at {time}, so please come by and celebrate with us.",
                "We have a little surprise waiting for you in the kitchen at {time}.",
                "Lunch on {weekday} is on us, and you get to pick the place.",
                "Keep an eye on your desk this afternoon, as something sweet may appear.",
            ),
            (
                "I hope you get to take some time for yourself this weekend.",
                "I hope the year ahead brings you plenty of good coffee and fewer meetings.",
                "May this year be full of adventures, rest, and at least one long vacation.",
            ),
        ),
        "close": ("Have a wonderful day.", "Enjoy every minute of it!", "Cheers to another great year."),
    },
    "condolences": {
        "reply_p": 0.0, "generic_close": False,
        "greetings": ("Dear {name},", "Hi {name},"),
        "slots": {"relation": ("father", "mother", "grandmother", "grandfather", "uncle", "aunt", "brother", "sister")},
        "instructions": (
            "Write a short condolence message to my colleague {name} whose {relation} passed away, gentle and supportive.",
            "Send sympathy to {name} after the loss of their {relation}, tell them not to worry about work.",
            "Condolence email to {name}, keep it simple and kind, offer help with their projects.",
            "My coworker {name} lost their {relation} last week, write a caring note from me and the {team} team.",
        ),
        "open": (
            "I was so sorry to hear about the loss of your {relation}.",
            "I wanted to reach out and say how deeply sorry I am for your loss.",
            "I just heard the sad news about your {relation}, and my heart goes out to you.",
            "All of us on the {team} team were heartbroken to hear about your {relation}.",
        ),
        "body": (
            (
                "Please accept my heartfelt condolences to you and your family.",
                "I can only imagine how hard this time must be.",
                "From the stories you have shared, it is clear how much you loved each other.",
                "Losing someone so close is never easy, and there are no right words for it.",
            ),
            (
                "Please do not worry about work at all right now, as the team has everything covered.",
                "{colleague} and I will take care of the {project} until you are back.",
                "Your projects are in good hands, so please focus on yourself and your family.",
                "We have moved your deadlines, and nobody expects anything from you for now.",
            ),
            (
                "If there is anything at all I can do, whether it is big or small, please let me know.",
                "I am here if you ever want to talk or just need a distraction.",
                "If it would help, I am happy to drop off a meal or run errands this week.",
            ),
        ),
        "close": ("You are in my thoughts.", "Take all the time you need.", "Sending you and your family so much love."),
    },
    "raise_request": {
        "reply_p": 0.0,
        "instructions": (
            "Ask my manager {name} for a meeting to discuss my compensation, mention my results on the {project}.",
            "Write an email requesting a salary review with {name}, I've taken on team lead responsibilities since {past_month}.",
            "Request a conversation about a raise with {name}, be confident but respectful.",
        ),
        "open": (
            "I would like to schedule some time to discuss my compensation.",
            "I was hoping we could set up a meeting to talk about my role and salary.",
        ),
        "body": (
            (
                "Over the past year, I led the {project}, which came in under budget and ahead of schedule.",
                "Since {past_month}, I have taken on additional responsibilities, including mentoring two new team members.",
            ),
            (
                "I have also looked into market rates for similar roles, and I would like to discuss bringing my salary in line with them.",
                "I believe my contributions have grown significantly, and I would like to discuss how that could be reflected in my compensation.",
            ),
            (
                "Would you have {duration} on {day} or sometime later that week?",
                "I am flexible on timing and happy to work around your calendar.",
            ),
        ),
        "close": ("Thank you for considering this.", "I appreciate your support and look forward to our conversation."),
    },
    "resignation": {
        "reply_p": 0.0, "generic_close": False,
        "instructions": (
            "Write my resignation letter to {name}, my last day will be {day2}, thank them for the opportunity.",
            "Resign from my position as {role} at {company}, two weeks notice, keep it positive.",
            "Resignation email to my manager {name}, offer to help train my replacement.",
        ),
        "open": (
            "I am writing to formally resign from my position as {role} at {company}.",
            "Please accept this letter as formal notice of my resignation from {company}.",
        ),
        "body": (
            ("My last working day will be {day2}.", "I am happy to work through the standard notice period, ending on {day2}."),
            (
                "I am grateful for the opportunities I have had here and for everything I have learned from you and the team.",
                "Working on the {project} has been a highlight of my career so far.",
            ),
            (
                "I will do everything I can to ensure a smooth handover, including documenting my ongoing work.",
                "I am happy to help train my replacement during the transition.",
            ),
        ),
        "close": ("Thank you again for your support and guidance.", "I hope we stay in touch."),
    },
    "roommate_bills": {
        "reply_p": 0.75,
        "instructions": (
            "Message my roommate {name} about splitting the utility bills, the electricity bill this month is {fee}.",
            "Remind {name} that they still owe their half of the internet and electricity bills, keep it friendly.",
            "Text-style email to my roommate {name} about the bills, suggest we use a shared spreadsheet.",
        ),
        "input": ("Did the electricity bill come yet?", "Let me know what I owe you."),
        "open": (
            "The utility bills for this month just came in, and I wanted to sort out the split with you.",
            "Quick reminder about the bills for this month.",
        ),
        "body": (
            (
                "The electricity bill is {fee}, and the internet is the usual amount.",
                "Electricity came to {fee} this time, which is a bit higher because of the cold weather.",
            ),
            ("Your half comes to {half}, if you could send it over by {soon_day}.", "Could you transfer your share by {soon_day}?"),
            (
                "Maybe we should set up a shared spreadsheet so we do not have to keep track by text.",
                "I was also thinking we could switch to a cheaper internet plan next month.",
            ),
        ),
        "close": ("Thanks, and let me know if you have any questions.", "Thanks a lot, I appreciate it."),
    },
    "book_club": {
        "reply_p": 0.0,
        "greetings": ("Hi everyone,", "Hey friends,", "Hello book lovers,", "Hi all,"),
        "slots": {
            "book": ("The Midnight Library", "Project Hail Mary", "The Overstory", "Circe", "Educated", "Klara and the Sun"),
            "restaurant": ("The Green Fork", "Maple Street Bistro", "Blue Door Kitchen"),
        },
        "instructions": (
            "Invite my friends to start a monthly book club, first meeting on {day} at my place, first book is {book}.",
            "Write a fun invite for our book club meeting on {day}, we are reading {book}.",
            "Book club reminder for {day} at {time}, ask everyone to RSVP by {soon_day}.",
        ),
        "open": (
            "I am so excited to invite you to the first meeting of our new book club on {day}.",
            "Our next book club meeting is on {day} at {time}, and you are all invited.",
        ),
        "body": (
            (
                "We will be reading {book}, so grab a copy if you have not yet.",
                "This month's pick is {book}, which several of you suggested.",
                "We will be discussing {book}, so bring your favorite quotes.",
                "The book for this round is {book}, and I have heard it is a real page-turner.",
            ),
            (
                "I will host at my place and provide snacks and tea.",
                "We will meet at {restaurant}, where they have a quiet back room for us.",
                "We will meet at my place, and I will make my famous lemon cake.",
                "We are gathering at {restaurant}, and the first drink is on me.",
            ),
            (
                "Please let me know by {soon_day} if you can come.",
                "Feel free to bring a friend who loves reading.",
                "No need to finish the book, just come for the company and the snacks.",
                "Bring a suggestion for next month if you have one.",
            ),
        ),
        "close": ("Happy reading, and see you soon!", "Can't wait to discuss it with you all."),
    },
    "contractor_quote": {
        "reply_p": 0.75,
        "slots": {"job_type": ("kitchen renovation", "bathroom remodel", "deck repair", "roof inspection", "basement waterproofing")},
        "instructions": (
            "Ask {name} from {rcompany} for a quote for a {job_type}, we want to start in {month}.",
            "Request an estimate from contractor {rfull} for a {job_type}, budget around {amount}.",
            "Email a contractor asking for a quote and a site visit for our {job_type}, available {day} or {day2}.",
        ),
        "input": (
            "Thanks for getting in touch through our website.",
            "Could you tell me a bit more about the project you have in mind?",
        ),
        "open": (
            "I am reaching out to request a quote for a {job_type} at our home.",
            "We are planning a {job_type} and a friend recommended your work.",
        ),
        "body": (
            ("We are hoping to start in {month} and finish within six weeks.", "Ideally the work would begin sometime in {month}."),
            (
                "Our budget is around {amount}, though we are somewhat flexible for the right materials.",
                "We have a rough budget of {amount} in mind.",
            ),
            (
                "Would you be able to visit the house for an assessment on {day} or {day2}?",
                "I can send photos and measurements if that helps you prepare an estimate.",
            ),
        ),
        "close": ("Thank you, and I look forward to hearing from you.", "Thanks for your time."),
    },
    "wedding_decline": {
        "reply_p": 0.75, "generic_close": False,
        "instructions": (
            "RSVP to {name}'s wedding on {day}, I can't make it because of a work trip, send warm wishes.",
            "Politely decline the wedding invitation from {name}, I'll be abroad that week.",
            "Write a kind note to {name} saying I can't attend their wedding on {day} but will send a gift.",
            "Tell {name} I'm so sorry to miss the wedding, my sister's graduation is the same weekend.",
        ),
        "input": (
            "We are so happy to invite you to our wedding on {day}!",
            "Please let us know by {soon_day} if you can make it.",
            "It would mean the world to us to have you there.",
        ),
        "open": (
            "Thank you so much for the lovely invitation to your wedding on {day}.",
            "I was so touched to receive your wedding invitation.",
            "It means a lot that you thought of me for your big day.",
            "Your invitation made me so happy, and I have been trying everything to make it work.",
        ),
        "body": (
            (
                "Unfortunately, I will be away on a work trip that week and will not be able to attend.",
                "I am heartbroken to say that I have a work commitment abroad that I cannot move.",
                "Sadly, my sister's graduation falls on the same weekend, so I will not be able to be there.",
                "I am so sorry to say that I will be traveling for work in {city} that week.",
            ),
            (
                "I will be thinking of you both and celebrating from afar.",
                "I would love to take you both out to dinner when I am back to celebrate properly.",
                "Please send me lots of photos so I can feel like I was there.",
                "I will raise a glass to you both wherever I am that evening.",
            ),
            (
                "I have sent a small gift from your registry, and I hope you enjoy it.",
                "A little something from your registry should arrive before the big day.",
                "I cannot wait to hear all about the ceremony when we catch up.",
            ),
        ),
        "close": ("Wishing you both a lifetime of happiness.", "Congratulations again to you both.", "With all my love to you both."),
    },
    "wedding_accept": {
        "reply_p": 0.75, "generic_close": False,
        "slots": {"partner": ("Jamie", "Alex", "Morgan", "Chris", "Taylor", "Jordan", "Riley")},
        "instructions": (
            "Reply to {name} that we'd love to attend the wedding, my plus one is my partner {partner}.",
            "Accept {name}'s wedding invitation for {day}, mention {partner} is vegetarian.",
            "RSVP yes to {name}'s wedding and offer to help with anything they need.",
        ),
        "input": ("We are so happy to invite you to our wedding on {day}!", "Please let us know by {soon_day} if you can make it."),
        "open": (
            "Thank you for the beautiful invitation to your wedding on {day}, and we would be delighted to attend.",
            "We are so excited to celebrate with you on {day}, and we will definitely be there.",
        ),
        "body": (
            ("{partner} will be joining me as my plus one.", "I will be coming with {partner}, if that still works with your numbers."),
            (
                "Neither of us has any dietary restrictions.",
                "{partner} is vegetarian, so please let us know if we should mention that to the caterer.",
            ),
            ("We cannot wait to celebrate with you both.", "Please let me know if you need any help with the preparations."),
        ),
        "close": ("See you on the big day!", "Congratulations again, and see you soon."),
    },
    "conference_speaker": {
        "reply_p": 0.75,
        "slots": {"conf": ("DataWorks Summit", "Product Leaders Forum", "Northwest Tech Conference", "Future of Work Expo", "Design Systems Day")},
        "instructions": (
            "Email {name}, the organizer of {conf}, offering to give a talk on {topic}.",
            "Pitch a talk about {topic} to the {conf} program committee, mention my experience at {company}.",
            "Write to {rfull} asking if there are still speaker slots at {conf}, I'd like to present on {topic}.",
        ),
        "input": ("Our call for speakers for {conf} is now open.", "We are especially interested in practical case studies."),
        "open": (
            "I am writing to propose a talk on {topic} for {conf}.",
            "I have attended {conf} for the past two years, and I would love to contribute as a speaker this time.",
        ),
        "body": (
            (
                "The talk would cover practical lessons from scaling {topic} at {company}.",
                "In the session, I would share a case study on how our team approached {topic}.",
            ),
            (
                "It would work well as a {duration_adj} session with time for questions.",
                "I have presented similar material at internal events and received great feedback.",
            ),
            (
                "I am happy to send a detailed abstract and speaker bio.",
                "I can adapt the format to a panel or workshop if that fits the program better.",
            ),
        ),
        "close": ("Thank you for considering my proposal.", "I look forward to hearing from you."),
    },
    "mentor_coffee": {
        "reply_p": 0.0,
        "instructions": (
            "Ask {rfull}, {rrole} at {rcompany}, if they'd be up for a short coffee chat about careers in {topic}.",
            "Write to {name} asking for mentorship advice, I admire their work on {topic}.",
            "Reach out to {name} for a quick virtual coffee, I'm trying to grow into a leadership role in {topic}.",
        ),
        "open": (
            "I have been following your work on {topic} for a while, and I really admire your perspective.",
            "I came across your talk on {topic}, and it resonated with me a lot.",
        ),
        "body": (
            (
                "I am currently working in {topic} at {company} and thinking about my next steps.",
                "I am early in my career and trying to learn from people who have built strong teams.",
            ),
            (
                "Would you be open to a {duration_adj} coffee chat sometime in the next few weeks?",
                "If you have time, I would love to buy you a coffee and hear about your path.",
            ),
            (
                "I completely understand if your schedule is full.",
                "I am happy to meet near your office or have a quick video call.",
            ),
        ),
        "close": ("Thank you for considering it.", "Thanks so much for your time."),
    },
    "hoa_parking": {
        "reply_p": 0.0, "greetings": FORMAL_GREETINGS,
        "slots": {
            "name": ("HOA Board", "Board Members", "Community Board"),
            "street": ("Maple Street", "Linden Court", "Willow Lane", "Birch Avenue", "Cedar Drive"),
        },
        "instructions": (
            "Complain to the HOA board about cars blocking my driveway on {street}, it's happened several times this month.",
            "Write to the homeowners association about the parking problem near the mailboxes, ask for signs or enforcement.",
            "Email the HOA about parking on {street}, ask to discuss it at the next board meeting on {day}.",
        ),
        "open": (
            "I am writing to raise a concern about parking on {street}.",
            "I would like to bring a recurring parking problem on {street} to the board's attention.",
            "As a resident of {street}, I am concerned about the parking situation near my home.",
            "I am reaching out because parking on {street} has become a real safety concern.",
        ),
        "body": (
            (
                "Several times this month, vehicles have been parked across my driveway, leaving me unable to get to work.",
                "Cars are frequently parked in the fire lane near the mailboxes, which makes it hard for residents to get through.",
                "Visitors regularly leave their cars on the corner overnight, which blocks the view for anyone pulling out.",
                "Delivery vans have been double parking for long periods, and last week an ambulance had trouble getting through.",
            ),
            (
                "I have spoken with the owners directly, but the problem continues.",
                "I have photos from {past_day} and two other occasions if that would help.",
                "I mentioned this to the property manager in {past_month}, but nothing has changed since then.",
                "Several neighbors have raised the same concern with me over the past few weeks.",
            ),
            (
                "Would the board consider installing clearer signage or enforcing the existing rules?",
                "I would appreciate it if this could be discussed at the next board meeting on {day}.",
                "Perhaps a simple reminder in the next newsletter would help everyone follow the rules.",
                "I would be glad to attend the next meeting and share what I have seen.",
            ),
        ),
        "close": ("Thank you for your attention to this matter.", "Thank you for your time."),
    },
    "lost_item": {
        "reply_p": 0.0, "greetings": FORMAL_GREETINGS,
        "slots": {
            "name": ("Front Desk Team", "Guest Services Team", "Lost and Found Team"),
            "place": ("Harborview Hotel", "The Lakeside Inn", "Grand Central Suites", "Pinecrest Lodge"),
            "lost_item": ("laptop charger", "black wool scarf", "reading glasses", "silver watch", "blue notebook"),
        },
        "instructions": (
            "Email {place} asking if they found my {lost_item} that I left in room {room} when I checked out on {past_day}.",
            "Write to the hotel about a {lost_item} I forgot in my room, offer to pay for shipping.",
            "Ask {place} lost and found whether anyone turned in my {lost_item}, I stayed in room {room}.",
        ),
        "open": (
            "I stayed at {place} in room {room} and checked out on {past_day}.",
            "I am hoping you can help me with an item I think I left behind during my stay at {place}.",
        ),
        "body": (
            (
                "I believe I left my {lost_item} in the room, possibly in the desk drawer or next to the bed.",
                "After checking out, I realized that my {lost_item} was missing.",
                "I only noticed at the airport that my {lost_item} was not in my bag.",
                "My {lost_item} must have slipped behind the nightstand or into the closet.",
            ),
            (
                "It has sentimental value, so I would be very grateful if someone could check the lost and found.",
                "It is quite important to me, and I would really like to get it back.",
                "It was a gift from my grandmother, so it means a great deal to me.",
                "I rely on it for work every day, so I would be grateful for any help.",
            ),
            (
                "If it turns up, I am happy to pay for shipping to my home address.",
                "If it is found, I can arrange for a courier to pick it up.",
                "A friend of mine lives nearby and could collect it from the front desk.",
                "Please let me know the shipping cost and I will pay it right away.",
            ),
        ),
        "close": ("Thank you very much for your help.", "I appreciate you looking into this."),
    },
    "welcome_new_hire": {
        "reply_p": 0.0,
        "instructions": (
            "Write a welcome email to {name}, who joins our {team} team as {job} on {day}.",
            "Welcome {rfull} to {company}, mention their onboarding buddy {colleague} and the first day schedule.",
            "New hire welcome for {name}, starting {day}, tell them where to go and what to expect in week one.",
        ),
        "open": (
            "Welcome to {company}! We are so happy to have you joining the {team} team.",
            "On behalf of the whole {team} team, I want to welcome you to {company}.",
        ),
        "body": (
            (
                "Your first day is {day}, and we will start with a team breakfast at {time}.",
                "On your first day, {day}, please come to the main reception at {time} and ask for me.",
            ),
            (
                "{colleague} will be your onboarding buddy and can help with any questions in the first few weeks.",
                "Your laptop and accounts will be ready when you arrive.",
            ),
            (
                "We have planned a few introductory meetings so you can get to know everyone.",
                "During the first week, you will get an overview of our current projects, including the {project}.",
            ),
        ),
        "close": ("We are really excited to work with you.", "See you soon!"),
    },
    "out_of_office": {
        "reply_p": 0.0,
        "greetings": ("Hello everyone,", "Dear clients,", "Hi all,"),
        "instructions": (
            "Let my clients know I'll be out of the office from {day} to {day2} and that {colleague} will handle urgent requests.",
            "Write a notice to clients about my upcoming leave, {colleague} is the backup contact.",
            "Out of office email for clients, away {day} through {day2}, limited email access.",
        ),
        "open": (
            "I wanted to let you know that I will be out of the office from {day} through {day2}.",
            "Please note that I will be away from {day} until {day2} with limited access to email.",
        ),
        "body": (
            (
                "During this time, {colleague} will be your main point of contact for anything urgent.",
                "{colleague} from our team will be covering my accounts while I am away.",
                "For anything time sensitive, please reach out to {colleague}, who knows all of our current projects.",
                "{colleague} has kindly agreed to handle urgent requests until I return.",
            ),
            (
                "All ongoing projects are on schedule, and I have briefed {colleague} on the details.",
                "I will make sure any open items are wrapped up before I leave.",
                "Invoices and reports will go out on the usual schedule during my absence.",
                "If you are expecting a delivery from me that week, it has already been scheduled.",
            ),
            (
                "I will respond to all other messages as soon as I am back.",
                "Any requests sent during my absence will be handled in order when I return.",
                "I will check my email once or twice during the week for anything critical.",
                "I look forward to catching up on everything after {day2}.",
            ),
        ),
        "close": ("Thank you for your understanding.", "Thank you, and I look forward to working with you when I am back."),
    },
    "reference_request": {
        "reply_p": 0.75,
        "instructions": (
            "Ask my former manager {name} if I can list them as a reference for a {job} role at {company2}.",
            "Write to {rfull}, my old boss at {rcompany}, asking them to be a reference, the recruiter may call next week.",
            "Reference request email to {name}, mention the {project} we worked on together.",
        ),
        "input": ("Great to hear from you after all this time!", "How is the new job going?"),
        "open": (
            "I hope you are doing well since we last worked together.",
            "It has been a while since we worked together at {rcompany}, and I hope all is well.",
        ),
        "body": (
            (
                "I am applying for a {job} position at {company2}, and I would love to list you as a reference.",
                "I am in the final stages of interviewing for a {job} role at {company2}.",
            ),
            (
                "Working with you on the {project} taught me so much, and I think you could speak well to my strengths.",
                "You saw my work firsthand during the {project}, so your perspective would mean a lot.",
            ),
            (
                "They may reach out by email sometime next week.",
                "I can send you the job description and my updated resume if that helps.",
            ),
        ),
        "close": ("Thank you so much for considering it.", "I really appreciate your support."),
    },
}

# --------------------------------------------------------------------------------------------
# Noise banks
# --------------------------------------------------------------------------------------------

PLACEHOLDER_INSTRUCTIONS = (
    "test", "asdf", "...", "lorem ipsum", "xxx", "write something", "TODO", "hi", "?", "aaaa",
    "test test", "Lorem ipsum dolor sit amet", "testing 123", "abc", "hello", "email", "sdfsdf",
    "qwerty", ".", "-", "123", "fdsa", "placeholder", "tbd", "ok", "x", "write an email",
    "something", "test 1", "jjjj", "n/a", "asdasd", "Test", "TEST", "hmm", "blah blah", "idk",
)
EMPTY_INSTRUCTIONS = (("empty_string", ""), ("whitespace", "   "), ("whitespace", "\n"), ("whitespace", " \t "), ("none", None))

KEYBOARD_MASH = ("asdfgh", "qwerty", "jjjjj", "sdfsdf", "asdasd", "zxcvb", "hjkl", "qwe", "dfgdfg", "lkjlkj", "aaaaa", "fghfgh")
TEST_VALUES = ("test", "Test User", "foo", "bar", "xxx", "N/A", "123", "Test", "John Doe Test", "asdf", "none", "user1", "TBD")
BROKEN_IDENTITIES = (
    ("empty_object", "{}"), ("not_json", "not json"), ("empty_string", ""), ("not_json", "name: Anna"),
    ("broken_json", '{"name": "Anna", "role": '), ("broken_json", "{name: 'test'}"), ("not_json", "undefined"),
)

GIBBERISH_TOKENS = (
    "the", "regards", "email", "Thank you", "meeting", "please", "and", "you", "Dear", "best",
)
SYMBOLS = ("!!", "##", "@@", "%%", "&&", "**", "??", "$$", "^^", ";;", "~~", "//", "==", "++")

# Wrong-language banks: small but real email phrasing.
FOREIGN = {
    "es": {
        "greetings": ("Estimado/a {name}:", "Hola {name},", "Buenos días, {name}:", "Querido/a {name}:"),
        "open": (
            "Espero que este mensaje te encuentre bien.",
            "Le escribo para dar seguimiento a nuestra conversación de la semana pasada.",
            "Muchas gracias por tu mensaje y por tu paciencia.",
            "Quería ponerme en contacto contigo para hablar sobre el proyecto.",
            "Te escribo en relación con tu solicitud reciente.",
        ),
        "body": (
            "Me gustaría programar una breve reunión para revisar los próximos pasos.",
            "¿Te vendría bien el jueves por la mañana?",
            "Adjunto encontrarás el documento actualizado con los cambios acordados.",
            "Hemos revisado tu propuesta con mucho interés y nos gustaría avanzar.",
            "Lamentamos mucho las molestias que esto haya podido ocasionar.",
            "El pago de la factura pendiente vence a finales de este mes.",
            "Nuestro equipo está trabajando para resolver el problema lo antes posible.",
            "Sería un placer contar con tu participación en el evento.",
            "Te agradecería mucho que me enviaras tus comentarios antes del viernes.",
            "Quiero agradecerte de corazón toda tu ayuda durante estas semanas.",
        ),
        "close": (
            "Quedo a tu disposición para cualquier pregunta.", "Gracias de antemano por tu tiempo.",
            "Quedo atento a tu respuesta.", "Un cordial saludo y gracias nuevamente.",
        ),
        "signoffs": ("Saludos cordiales,", "Atentamente,", "Un abrazo,", "Muchas gracias,"),
        "instructions": (
            "Escribe un correo a {name} para pedir una reunión la próxima semana.",
            "Responde al cliente disculpándote por el retraso del pedido.",
            "Redacta un correo de agradecimiento para {name} por su ayuda con el proyecto.",
            "Escribe un seguimiento amable sobre la propuesta que enviamos.",
        ),
    },
    "de": {
        "greetings": ("Sehr geehrte Damen und Herren,", "Hallo {name},", "Liebe/r {name},", "Guten Tag {name},"),
        "open": (
            "Ich hoffe, es geht Ihnen gut.",
            "Vielen Dank für Ihre Nachricht und Ihre Geduld.",
            "Ich melde mich bezüglich unseres Gesprächs von letzter Woche.",
            "Ich schreibe Ihnen wegen Ihrer Anfrage von gestern.",
            "Gerne möchte ich kurz auf unser Projekt zurückkommen.",
        ),
        "body": (
            "Ich würde gerne ein kurzes Treffen vereinbaren, um die nächsten Schritte zu besprechen.",
            "Würde Ihnen Donnerstagvormittag passen?",
            "Im Anhang finden Sie das aktualisierte Dokument mit den besprochenen Änderungen.",
            "Wir haben Ihren Vorschlag mit großem Interesse geprüft und möchten gerne weitermachen.",
            "Wir entschuldigen uns für die entstandenen Unannehmlichkeiten.",
            "Die offene Rechnung ist bis zum Ende des Monats fällig.",
            "Unser Team arbeitet daran, das Problem so schnell wie möglich zu lösen.",
            "Wir würden uns sehr freuen, Sie bei unserer Veranstaltung begrüßen zu dürfen.",
            "Ich wäre Ihnen dankbar, wenn Sie mir Ihr Feedback bis Freitag schicken könnten.",
            "Ich möchte mich herzlich für Ihre Unterstützung in den letzten Wochen bedanken.",
        ),
        "close": (
            "Für Rückfragen stehe ich Ihnen jederzeit gerne zur Verfügung.",
            "Vielen Dank im Voraus für Ihre Zeit.", "Ich freue mich auf Ihre Rückmeldung.",
            "Nochmals herzlichen Dank für Ihre Unterstützung.",
        ),
        "signoffs": ("Mit freundlichen Grüßen", "Viele Grüße", "Beste Grüße", "Herzliche Grüße"),
        "instructions": (
            "Schreibe eine E-Mail an {name} und bitte um ein Treffen nächste Woche.",
            "Antworte dem Kunden und entschuldige dich für die Verspätung der Lieferung.",
            "Verfasse eine Dankesmail an {name} für die Hilfe beim Projekt.",
            "Schreibe eine freundliche Erinnerung an die offene Rechnung.",
        ),
    },
    "fr": {
        "greetings": ("Bonjour {name},", "Cher/Chère {name},", "Madame, Monsieur,", "Bonsoir {name},"),
        "open": (
            "J'espère que vous allez bien.",
            "Merci beaucoup pour votre message et pour votre patience.",
            "Je me permets de revenir vers vous concernant notre échange de la semaine dernière.",
            "Je vous écris au sujet de votre demande récente.",
            "Je souhaitais faire le point avec vous sur le projet.",
        ),
        "body": (
            "Je souhaiterais organiser une courte réunion pour discuter des prochaines étapes.",
            "Est-ce que jeudi matin vous conviendrait ?",
            "Vous trouverez ci-joint le document mis à jour avec les modifications convenues.",
            "Nous avons étudié votre proposition avec beaucoup d'intérêt et souhaitons avancer.",
            "Nous vous présentons nos excuses pour la gêne occasionnée.",
            "La facture en attente arrive à échéance à la fin du mois.",
            "Notre équipe travaille à résoudre le problème dans les plus brefs délais.",
            "Nous serions ravis de vous accueillir lors de notre événement.",
            "Je vous serais reconnaissant de me faire part de vos commentaires d'ici vendredi.",
            "Je tiens à vous remercier chaleureusement pour votre aide ces dernières semaines.",
        ),
        "close": (
            "Je reste à votre disposition pour toute question.", "Merci d'avance pour votre temps.",
            "Dans l'attente de votre réponse, je vous souhaite une excellente journée.",
            "Encore merci pour votre aide.",
        ),
        "signoffs": ("Cordialement,", "Bien à vous,", "Bien cordialement,", "Merci et à bientôt,"),
        "instructions": (
            "Écris un e-mail à {name} pour proposer une réunion la semaine prochaine.",
            "Réponds au client en t'excusant pour le retard de la commande.",
            "Rédige un e-mail de remerciement à {name} pour son aide sur le projet.",
            "Écris une relance polie au sujet de la proposition envoyée.",
        ),
    },
}

# PII banks.
EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "hotmail.com", "proton.me", "icloud.com")
US_AREA_CODES = ("212", "415", "312", "617", "206", "512", "303", "646", "213", "404")
PII_BODY_SENTENCES = {
    "email": (
        "You can also reach me directly at {pii}.",
        "Feel free to send the documents to my personal address, {pii}.",
        "Please reply to {pii} instead, as I am moving away from my work inbox.",
    ),
    "phone": (
        "If it is easier, you can call me at {pii}.",
        "My direct line is {pii} if anything comes up.",
        "Feel free to text me at {pii} with any questions.",
    ),
    "credit_card": (
        "For the payment, please use my card {pii}, expiring {exp}.",
        "You can charge the remaining balance to card number {pii}.",
    ),
    "iban": (
        "Please transfer the amount to our account, IBAN {pii}.",
        "Our bank details are IBAN {pii}, reference {invoice}.",
    ),
}
PII_SIGNATURE_LINES = {
    "email": ("{pii}", "Email: {pii}", "{role} | {pii}"),
    "phone": ("Mobile: {pii}", "Tel. {pii}", "{pii}", "Direct: {pii}", "{role}\n{pii}"),
}
PII_INSTRUCTION_SUFFIXES = {
    "email": ("Add my email {pii} so they can reply there.", "Include my personal email {pii} at the end."),
    "phone": ("Include my cell {pii} at the end.", "Put my number {pii} in the signature."),
    "credit_card": ("Tell them to use my card {pii} for the deposit.", "My card is {pii}, include it for the payment."),
    "iban": ("Our IBAN is {pii}, include it.", "Add the bank details: IBAN {pii}."),
}
PII_INPUT_SENTENCES = {
    "email": ("Please use my personal email, {pii}, from now on.",),
    "phone": ("You can call me at {pii} if that is quicker.",),
    "credit_card": ("You can charge my card {pii} for the balance.",),
    "iban": ("Please send the refund to IBAN {pii}.",),
}

TEMPLATE_UNKNOWN_IDS = ("legacy_v0_template", "unknown", "tmpl_test", "custom_template_deprecated", "")
