//! The sample library in `assets/samples/`: its text (the PDFs are generated from it) and the
//! facts tests look up, each on a known page.

pub struct Sample {
    pub file: &'static str,
    pub pages: &'static [&'static [&'static str]],
}

/// A fact a search must find: the keyword query, a paraphrase for vector search, and where it is.
pub struct Fact {
    pub keyword_query: &'static str,
    pub paraphrase: &'static str,
    pub file: &'static str,
    pub page: i64,
}

pub const SAMPLES: &[Sample] = &[
    Sample {
        file: "helio-sx400-inverter-manual.pdf",
        pages: &[
            &[
                "Helio SX-400 Solar Inverter. Installation and Operation Manual, revision C.",
                "This manual describes how to install, commission and maintain the Helio SX-400 grid-tied inverter. Read the safety instructions before you open the enclosure. Only a qualified electrician may connect the inverter to the grid.",
                "The SX-400 converts direct current from up to two strings of photovoltaic modules into alternating current at 230 volts. Its maximum continuous output power is 4,000 watts and its peak efficiency is 97.6 percent.",
            ],
            &[
                "Mounting. Install the inverter on a vertical wall made of non-flammable material. Leave a clearance of at least 30 centimetres above the unit and 20 centimetres on each side so that the cooling fins can shed heat.",
                "Do not install the inverter in direct sunlight. Every increase of 10 degrees in ambient temperature above 40 degrees Celsius reduces the available output power by about 8 percent, a behaviour called thermal derating.",
                "Use the four M6 stainless steel bolts supplied in the box. The unit weighs 14.5 kilograms; two people should lift it onto the bracket.",
            ],
            &[
                "Troubleshooting. The display shows an error code when the inverter disconnects from the grid.",
                "Error code E17 means grid overvoltage: the mains voltage exceeded 253 volts for more than ten minutes. Ask the grid operator to check the transformer tap, then restart the inverter.",
                "Error code E22 means insulation fault: the resistance between the photovoltaic array and earth is below 1 megohm. Inspect the cables for damage before the next sunny day.",
                "Error code E31 means the internal fan has failed. The inverter keeps running at reduced power until the fan is replaced.",
            ],
        ],
    },
    Sample {
        file: "northwind-travel-policy.pdf",
        pages: &[
            &[
                "Northwind Consulting Travel Policy, effective 1 March 2026.",
                "This policy applies to every employee and contractor who travels on company business. Book all trips through the internal travel desk at least fourteen days in advance whenever possible.",
                "Flights shorter than six hours are booked in economy class. For flights of six hours or longer, premium economy may be booked with the approval of a department head.",
            ],
            &[
                "Expenses. The daily meal allowance is 45 euros within the European Union and 60 euros elsewhere. Alcohol is never reimbursed.",
                "Hotel rooms are reimbursed up to 140 euros per night in capital cities and 110 euros per night in other cities. Keep every receipt; claims without receipts are rejected.",
                "Submit expense claims within 30 days of returning. Claims submitted later than 90 days after the trip are not paid.",
            ],
        ],
    },
    Sample {
        file: "sourdough-baking-guide.pdf",
        pages: &[
            &[
                "A Practical Guide to Sourdough Bread.",
                "Sourdough is leavened by a culture of wild yeast and lactic acid bacteria instead of commercial yeast. The culture, called a starter, lives in a mixture of flour and water.",
                "Keep the starter in a glass jar at room temperature. Feed it every day at a ratio of 1:5:5, meaning one part starter, five parts flour and five parts water by weight.",
            ],
            &[
                "Mixing and proofing. Combine 500 grams of bread flour, 350 grams of water and 100 grams of active starter. Rest the dough for 45 minutes before adding 10 grams of salt; this pause is called the autolyse.",
                "Fold the dough four times during the first two hours of bulk fermentation. The dough is ready when it has grown by about half and shows bubbles at the edges.",
            ],
            &[
                "Baking. Preheat the oven with a cast iron pot inside to 250 degrees Celsius for at least 45 minutes.",
                "Bake the loaf for 20 minutes with the lid on, so the steam keeps the crust soft while the bread expands, then remove the lid and bake for another 25 minutes at 230 degrees until the crust is deep brown.",
                "Let the bread cool on a rack for at least one hour before slicing; the crumb is still setting.",
            ],
        ],
    },
    Sample {
        file: "riverside-lab-safety-rules.pdf",
        pages: &[
            &[
                "Riverside Chemistry Laboratory. Safety Rules for Students.",
                "Wear safety goggles and a lab coat at all times in the laboratory, even when you are only observing. Tie back long hair and do not wear open shoes.",
                "Never eat, drink or apply cosmetics in the laboratory. Wash your hands with soap before leaving.",
            ],
            &[
                "Emergencies. If a chemical splashes into your eyes, rinse them at the eyewash station for at least 15 minutes while holding the eyelids open, then report to the supervisor.",
                "In case of fire, pull the alarm next to door B and leave the building by the east staircase. The assembly point is the car park behind the library.",
                "Dispose of broken glass only in the yellow sharps container, never in the ordinary waste bin.",
            ],
        ],
    },
];

pub const FACTS: &[Fact] = &[
    Fact {
        keyword_query: "error code E17",
        paraphrase: "what does it mean when the display shows that the mains voltage is too high",
        file: "helio-sx400-inverter-manual.pdf",
        page: 3,
    },
    Fact {
        keyword_query: "clearance above the unit",
        paraphrase:
            "how much free space must be left around the device when it is mounted on the wall",
        file: "helio-sx400-inverter-manual.pdf",
        page: 2,
    },
    Fact {
        keyword_query: "daily meal allowance",
        paraphrase: "how much money per day can I spend on food during a business trip",
        file: "northwind-travel-policy.pdf",
        page: 2,
    },
    Fact {
        keyword_query: "economy class flights",
        paraphrase: "which seat category may staff book for air travel",
        file: "northwind-travel-policy.pdf",
        page: 1,
    },
    Fact {
        keyword_query: "lid on 20 minutes",
        paraphrase: "how long should the loaf bake covered in the oven",
        file: "sourdough-baking-guide.pdf",
        page: 3,
    },
    Fact {
        keyword_query: "autolyse salt",
        paraphrase: "why wait before putting salt into the dough",
        file: "sourdough-baking-guide.pdf",
        page: 2,
    },
    Fact {
        keyword_query: "eyewash station",
        paraphrase: "what to do if a chemical gets into my eyes",
        file: "riverside-lab-safety-rules.pdf",
        page: 2,
    },
];
