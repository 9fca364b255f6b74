//! Hand-made lists that the reference data does not carry: where Chinese traders sit, which
//! customs offices they use, who they trade with, and the parts that synthetic names are built
//! from.
//!
//! Weights are rough shares of China's 2024 trade, chosen so that aggregate output looks like
//! real traffic; they are not statistics. Every code here that has a reference table (country,
//! port, currency, trade mode, levy nature, package) is checked against it when the generator
//! is built, and rows that the table lacks are dropped rather than emitted.

/// A transport mode code (运输方式).
pub(crate) const SEA: &str = "2";
/// Rail.
pub(crate) const RAIL: &str = "3";
/// Road.
pub(crate) const ROAD: &str = "4";
/// Air.
pub(crate) const AIR: &str = "5";

/// A customs office that declarations in a cluster go through, with its mode of transport.
#[derive(Debug)]
pub(crate) struct Office {
    /// Declaring customs (申报地海关).
    pub declaring: &'static str,
    /// Customs of import or export (进出境关别); differs from `declaring` for inland
    /// declarations cleared at a border or sea port (属地申报，口岸验放).
    pub ie_port: &'static str,
    /// Transport mode code.
    pub mode: &'static str,
    /// Domestic port in the port table (`CHN...`), the export port of loading.
    pub chn_port: &'static str,
    /// Relative share of the cluster's declarations.
    pub weight: f64,
}

const fn office(
    declaring: &'static str,
    ie_port: &'static str,
    mode: &'static str,
    chn_port: &'static str,
    weight: f64,
) -> Office {
    Office {
        declaring,
        ie_port,
        mode,
        chn_port,
        weight,
    }
}

/// Offices by cluster. A cluster is the set of offices a region's traders use.
pub(crate) const CLUSTERS: &[&[Office]] = &[
    // 0 Shenzhen and Dongguan: road to Hong Kong, Shekou and Yantian, Bao'an airport.
    &[
        office("5301", "5301", ROAD, "CHN731", 3.0),
        office("5345", "5345", ROAD, "CHN731", 2.0),
        office("5354", "5354", ROAD, "CHN731", 1.0),
        office("5304", "5304", SEA, "CHN740", 4.0),
        office("5316", "5316", SEA, "CHN737", 4.0),
        office("5317", "5317", AIR, "CHN799", 3.0),
    ],
    // 1 Guangzhou and Foshan: Huangpu and Nansha, Baiyun airport, some road via Shenzhen.
    &[
        office("5201", "5201", SEA, "CHN750", 4.0),
        office("5100", "5100", SEA, "CHN754", 2.0),
        office("5141", "5141", AIR, "CHN793", 2.0),
        office("5301", "5301", ROAD, "CHN731", 1.0),
    ],
    // 2 Shanghai, Suzhou, Nanjing: Yangshan, Waigaoqiao, Wusong, Pudong airport.
    &[
        office("2248", "2248", SEA, "CHN342", 5.0),
        office("2201", "2201", SEA, "CHN331", 2.0),
        office("2202", "2202", SEA, "CHN339", 1.0),
        office("2218", "2218", SEA, "CHN336", 1.0),
        office("2233", "2233", AIR, "CHN340", 4.0),
    ],
    // 3 Ningbo, Hangzhou, Yiwu: Beilun, with some cargo through Shanghai.
    &[
        office("3100", "3100", SEA, "CHN361", 6.0),
        office("2248", "2248", SEA, "CHN342", 1.0),
        office("2233", "2233", AIR, "CHN340", 1.0),
    ],
    // 4 Qingdao.
    &[
        office("4200", "4200", SEA, "CHN261", 3.0),
        office("4218", "4218", SEA, "CHN261", 3.0),
        office("4200", "4200", AIR, "CHN280", 1.0),
    ],
    // 5 Beijing and Tianjin: Tianjin Xingang, Capital airport.
    &[
        office("0200", "0200", SEA, "CHN185", 4.0),
        office("0101", "0101", AIR, "CHN188", 3.0),
        office("0200", "0200", AIR, "CHN184", 0.5),
    ],
    // 6 Xiamen.
    &[
        office("3700", "3700", SEA, "CHN674", 4.0),
        office("3700", "3700", AIR, "CHN683", 1.0),
    ],
    // 7 Dalian.
    &[
        office("0900", "0900", SEA, "CHN114", 4.0),
        office("0900", "0900", AIR, "CHN128", 1.0),
    ],
    // 8 Zhengzhou: airport, China-Europe trains leaving through Manzhouli, sea via Shanghai.
    &[
        office("4600", "4600", AIR, "CHN286", 3.0),
        office("4600", "0600", RAIL, "CHN000", 2.0),
        office("4600", "2248", SEA, "CHN342", 1.0),
    ],
    // 9 Wuhan: airport, rail, Yangtze barges to Shanghai.
    &[
        office("4712", "4712", AIR, "CHN290", 3.0),
        office("4700", "0600", RAIL, "CHN000", 1.0),
        office("4700", "2248", SEA, "CHN342", 2.0),
    ],
    // 10 Chengdu: airport, trains through Alashankou, sea via Qinzhou.
    &[
        office("7900", "7900", AIR, "CHN937", 3.0),
        office("7900", "9400", RAIL, "CHN000", 2.0),
        office("7900", "7200", SEA, "CHN000", 1.0),
    ],
    // 11 Xi'an.
    &[
        office("9000", "9000", AIR, "CHN952", 2.0),
        office("9000", "9400", RAIL, "CHN000", 3.0),
    ],
    // 12 Chongqing.
    &[
        office("8000", "8000", AIR, "CHN934", 2.0),
        office("8000", "9400", RAIL, "CHN000", 2.0),
        office("8000", "2248", SEA, "CHN342", 1.0),
    ],
];

/// Where enterprises are registered.
#[derive(Debug)]
pub(crate) struct Division {
    /// Six-digit administrative division (GB/T 2260), characters 3-8 of the USCC.
    pub code: &'static str,
    /// Prefix of company names registered there.
    pub city: &'static str,
    /// Index into [`CLUSTERS`].
    pub cluster: usize,
    /// Relative share of enterprises.
    pub weight: f64,
}

const fn division(code: &'static str, city: &'static str, cluster: usize, weight: f64) -> Division {
    Division {
        code,
        city,
        cluster,
        weight,
    }
}

/// Divisions, weighted roughly by foreign-trade volume.
pub(crate) const DIVISIONS: &[Division] = &[
    division("440300", "深圳市", 0, 14.0),
    division("441900", "东莞市", 0, 5.0),
    division("440100", "广州市", 1, 7.0),
    division("440600", "佛山市", 1, 3.0),
    division("310000", "上海", 2, 5.0),
    division("310115", "上海", 2, 6.0),
    division("310112", "上海", 2, 2.0),
    division("320500", "苏州", 2, 7.0),
    division("320100", "南京", 2, 2.0),
    division("330100", "杭州", 3, 3.0),
    division("330200", "宁波", 3, 5.0),
    division("330782", "义乌市", 3, 2.0),
    division("370200", "青岛", 4, 4.0),
    division("110000", "北京", 5, 4.0),
    division("110105", "北京", 5, 2.0),
    division("110108", "北京", 5, 2.0),
    division("120000", "天津", 5, 2.0),
    division("120116", "天津", 5, 2.0),
    division("350200", "厦门", 6, 3.0),
    division("210200", "大连", 7, 1.5),
    division("410100", "郑州", 8, 1.5),
    division("420100", "武汉", 9, 1.5),
    division("510100", "成都", 10, 1.5),
    division("610100", "西安", 11, 1.0),
    division("500112", "重庆", 12, 1.5),
];

/// Trading partners for sea and air: (ISO alpha-3, import weight, export weight, major port
/// codes from the port table). Hong Kong is mostly a destination of exports.
pub(crate) const PARTNERS: &[(&str, f64, f64, &[&str])] = &[
    (
        "USA",
        7.0,
        15.0,
        &[
            "USA264", "USA255", "USA309", "USA483", "USA336", "USA477", "USA216", "USA117",
        ],
    ),
    ("KOR", 7.0, 4.5, &["KOR003", "KOR018"]),
    (
        "JPN",
        6.5,
        4.5,
        &["JPN501", "JPN570", "JPN384", "JPN213", "JPN318"],
    ),
    ("HKG", 1.0, 8.0, &["HKG003"]),
    ("TWN", 8.0, 2.0, &["TWN128", "TWN107", "TWN103"]),
    ("VNM", 3.5, 5.0, &["VNM009", "VNM012"]),
    ("DEU", 4.5, 3.0, &["DEU063", "DEU018", "DEU057"]),
    (
        "AUS",
        5.5,
        2.2,
        &["AUS225", "AUS147", "AUS033", "AUS093", "AUS174"],
    ),
    ("RUS", 5.0, 3.5, &["RUS111", "RUS090", "RUS054", "RUS901"]),
    ("MYS", 3.5, 2.8, &["MYS105", "MYS099"]),
    ("BRA", 5.0, 2.0, &["BRA099", "BRA063", "BRA084"]),
    ("IND", 0.7, 4.0, &["IND122", "IND018"]),
    ("THA", 2.5, 2.5, &["THA005", "THA003"]),
    ("IDN", 3.0, 2.5, &["IDN081", "IDN224"]),
    ("SGP", 1.5, 2.2, &["SGP012"]),
    ("NLD", 0.8, 3.0, &["NLD066", "NLD006"]),
    ("GBR", 0.8, 2.5, &["GBR210", "GBR639", "GBR375"]),
    ("FRA", 1.2, 1.5, &["FRA902", "FRA153", "FRA901"]),
    ("ITA", 1.0, 1.4, &["ITA075", "ITA204", "ITA902"]),
    ("SAU", 2.5, 1.5, &["SAU009"]),
    ("ARE", 1.3, 2.0, &["ARE027", "ARE018"]),
    ("CAN", 1.5, 1.5, &["CAN465", "CAN456"]),
    ("MEX", 0.5, 2.4, &["MEX042"]),
    ("CHL", 2.0, 0.8, &["CHL102", "CHL123"]),
    ("PHL", 0.8, 2.0, &["PHL114"]),
    ("ESP", 0.4, 1.3, &["ESP177", "ESP024"]),
    ("BEL", 0.4, 0.9, &["BEL003"]),
    ("NZL", 0.6, 0.4, &["NZL003"]),
    ("ZAF", 1.0, 0.6, &["ZAF006"]),
    ("POL", 0.2, 1.2, &["POL006"]),
];

/// Partners across the land borders of the southern road crossings: (country, weight).
pub(crate) const ROAD_PARTNERS: &[(&str, f64)] = &[("HKG", 18.0), ("MAC", 1.0), ("VNM", 1.0)];

/// Partners of the China-Europe and Central Asia trains.
pub(crate) const RAIL_PARTNERS: &[(&str, f64)] = &[
    ("RUS", 4.0),
    ("DEU", 2.0),
    ("POL", 1.5),
    ("KAZ", 2.0),
    ("BLR", 0.8),
    ("NLD", 0.7),
    ("UZB", 0.6),
];

/// Transit ports used as the port of call (经停港) of imports.
pub(crate) const TRANSIT_PORTS: &[&str] = &["HKG003", "SGP012", "KOR003", "MYS105"];

/// Currency a partner invoices in when it does not use US dollars.
pub(crate) const LOCAL_CURRENCY: &[(&str, &str)] = &[
    ("JPN", "JPY"),
    ("KOR", "KRW"),
    ("HKG", "HKD"),
    ("MAC", "HKD"),
    ("TWN", "TWD"),
    ("DEU", "EUR"),
    ("FRA", "EUR"),
    ("ITA", "EUR"),
    ("NLD", "EUR"),
    ("ESP", "EUR"),
    ("BEL", "EUR"),
    ("GBR", "GBP"),
    ("AUS", "AUD"),
    ("NZL", "NZD"),
    ("CAN", "CAD"),
    ("SGP", "SGD"),
    ("MYS", "MYR"),
    ("THA", "THB"),
    ("RUS", "RUB"),
    ("POL", "EUR"),
];

/// Rough units of a currency per US dollar, to give amounts their usual size. Not customs
/// rates: those come from `jinguan-refdata` when duty is computed.
pub(crate) const PER_USD: &[(&str, f64)] = &[
    ("USD", 1.0),
    ("CNY", 7.1),
    ("EUR", 0.92),
    ("JPY", 150.0),
    ("HKD", 7.8),
    ("KRW", 1350.0),
    ("TWD", 32.0),
    ("GBP", 0.79),
    ("AUD", 1.52),
    ("NZD", 1.65),
    ("CAD", 1.36),
    ("SGD", 1.34),
    ("MYR", 4.6),
    ("THB", 35.5),
    ("RUB", 92.0),
    ("CHF", 0.88),
];

/// Relative share of declared goods items by HS chapter (a count, not a value: fuels and ores
/// are a large share of value in few declarations); chapters not listed weigh
/// [`DEFAULT_CHAPTER_WEIGHT`].
pub(crate) const CHAPTER_WEIGHTS: &[(u8, f64)] = &[
    (85, 22.0),
    (84, 15.0),
    (27, 1.5),
    (87, 5.0),
    (90, 4.0),
    (39, 4.0),
    (26, 0.8),
    (29, 2.5),
    (94, 2.5),
    (73, 2.5),
    (61, 2.0),
    (62, 2.0),
    (72, 2.0),
    (95, 1.5),
    (30, 1.5),
    (38, 1.5),
    (74, 1.5),
    (12, 1.2),
    (64, 1.3),
    (3, 1.2),
    (8, 1.2),
    (40, 1.2),
    (48, 1.0),
    (63, 1.0),
    (76, 1.0),
    (28, 1.0),
    (71, 0.8),
    (2, 0.8),
    (42, 0.8),
    (44, 0.8),
    (22, 0.6),
    (33, 0.6),
    (52, 0.6),
    (54, 0.6),
    (55, 0.6),
    (60, 0.6),
    (69, 0.6),
    (70, 0.6),
    (82, 0.6),
    (83, 0.6),
    (10, 0.5),
    (88, 0.5),
    (96, 0.5),
    (89, 0.4),
    (86, 0.2),
];

/// Weight of a chapter not in [`CHAPTER_WEIGHTS`].
pub(crate) const DEFAULT_CHAPTER_WEIGHT: f64 = 0.2;

/// Typical US dollars per kilogram by chapter, for goods whose legal unit is the kilogram.
pub(crate) fn usd_per_kg(chapter: u8) -> f64 {
    match chapter {
        1..=2 => 5.0,
        3 => 6.0,
        4..=5 => 4.0,
        6..=9 => 2.0,
        10 => 0.35,
        11 => 0.6,
        12 => 0.55,
        13..=14 => 3.0,
        15 => 1.2,
        16..=21 => 3.0,
        22 => 2.5,
        23 => 0.5,
        24 => 8.0,
        25 => 0.1,
        26 => 0.12,
        27 => 0.6,
        28 => 1.5,
        29 => 3.0,
        30 => 60.0,
        31 => 0.4,
        32..=38 => 5.0,
        39 => 2.0,
        40 => 3.0,
        41..=43 => 12.0,
        44 => 0.5,
        45..=46 => 3.0,
        47 => 0.7,
        48 => 1.5,
        49 => 8.0,
        50..=60 => 6.0,
        61..=63 => 15.0,
        64..=67 => 12.0,
        68..=70 => 1.5,
        71 => 50.0,
        72 => 0.8,
        73 => 2.5,
        74 => 9.0,
        75 => 15.0,
        76 => 3.0,
        80 => 30.0,
        81 => 20.0,
        78..=79 => 3.0,
        82..=83 => 8.0,
        84 => 15.0,
        85 => 25.0,
        86..=89 => 8.0,
        90 => 80.0,
        91 => 100.0,
        92..=93 => 20.0,
        94 => 4.0,
        95..=96 => 6.0,
        _ => 20.0,
    }
}

/// How much bigger than an ordinary consignment a chapter's consignments are: ores, fuels and
/// grain move in ship loads.
pub(crate) fn chapter_value_scale(chapter: u8) -> f64 {
    match chapter {
        26 | 27 => 15.0,
        10 | 12 => 12.0,
        74 | 47 => 6.0,
        72 | 15 => 4.0,
        88 | 89 => 10.0,
        87 => 3.0,
        _ => 1.0,
    }
}

/// Measurement profile of a legal unit: decimals declared, kilograms per unit, US dollars
/// per unit (ignored for the kilogram, whose price comes from [`usd_per_kg`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitProfile {
    /// Decimals of a declared quantity in this unit.
    pub decimals: u32,
    /// Typical kilograms per unit.
    pub kg: f64,
    /// Typical US dollars per unit.
    pub usd: f64,
}

/// The profile of a legal unit, by its Chinese name, for goods of a heading.
pub(crate) fn unit_profile(name: &str, chapter: u8, heading: &str) -> UnitProfile {
    let p = |decimals, kg, usd| UnitProfile { decimals, kg, usd };
    match name {
        "千克" => p(2, 1.0, usd_per_kg(chapter)),
        "克" if chapter == 71 => p(2, 0.001, 30.0),
        "克" => p(2, 0.001, 0.2),
        "台" => machine_profile(chapter, heading),
        "个" => match chapter {
            84 | 85 => p(0, 0.05, 2.0),
            90 => p(0, 0.2, 20.0),
            _ => p(0, 0.1, 3.0),
        },
        "辆" => match heading {
            "8703" => p(0, 1500.0, 30_000.0),
            "8711" => p(0, 120.0, 1_500.0),
            "8712" => p(0, 14.0, 150.0),
            _ => p(0, 4_000.0, 40_000.0),
        },
        "件" => p(0, 0.35, 12.0),
        "米" => p(2, 0.1, 2.0),
        "套" => p(0, 2.0, 200.0),
        "只" => p(0, 0.3, 5.0),
        "条" => p(0, 0.5, 5.0),
        "架" if heading == "8802" => p(0, 20_000.0, 5_000_000.0),
        "架" => p(0, 50.0, 3_000.0),
        "艘" => p(0, 100_000.0, 1_000_000.0),
        "升" => p(2, 0.9, 3.0),
        "千升" => p(2, 900.0, 600.0),
        "株" => p(0, 0.5, 2.0),
        "支" => p(0, 0.05, 3.0),
        "张" => p(0, 0.05, 2.0),
        "双" => p(0, 0.8, 15.0),
        "幅" => p(0, 0.5, 20.0),
        "克拉" => p(2, 0.0002, 1_000.0),
        "盘" => p(0, 0.3, 30.0),
        "片" => p(0, 0.01, 1.0),
        "副" => p(0, 0.3, 10.0),
        "把" => p(0, 0.4, 5.0),
        "座" => p(0, 2_000.0, 5_000.0),
        "平方米" => p(2, 1.0, 10.0),
        "立方米" => p(3, 600.0, 300.0),
        "块" | "根" => p(0, 0.5, 5.0),
        "头" => p(0, 300.0, 2_000.0),
        "百个" | "百支" => p(0, 0.5, 5.0),
        "千个" | "千支" | "千块" => p(0, 5.0, 50.0),
        "桶" => p(0, 180.0, 200.0),
        // Radioactivity and other exotic second units: a nominal ratio to the net weight.
        _ => p(2, 1.0, 10.0),
    }
}

/// The profile of a machine (台). Machines span four orders of magnitude; the common headings
/// get their own level.
fn machine_profile(chapter: u8, heading: &str) -> UnitProfile {
    let p = |decimals, kg, usd| UnitProfile { decimals, kg, usd };
    match heading {
        "8426" | "8429" | "8430" => p(0, 15_000.0, 90_000.0),
        "8427" => p(0, 3_000.0, 15_000.0),
        "8456" | "8457" | "8458" | "8459" | "8460" | "8461" | "8462" | "8463" | "8465" => {
            p(0, 3_000.0, 50_000.0)
        }
        "8502" => p(0, 2_000.0, 20_000.0),
        "8407" | "8408" => p(0, 150.0, 2_000.0),
        "8415" | "8418" | "8450" => p(0, 50.0, 350.0),
        "8471" => p(0, 5.0, 600.0),
        "8443" => p(0, 15.0, 400.0),
        "8517" => p(0, 0.3, 150.0),
        "8525" | "8526" => p(0, 1.0, 200.0),
        "8528" => p(0, 12.0, 300.0),
        "8516" | "8509" | "8508" => p(0, 4.0, 40.0),
        _ => match chapter {
            84 => p(0, 60.0, 900.0),
            85 => p(0, 6.0, 120.0),
            90 => p(0, 12.0, 1500.0),
            _ => p(0, 25.0, 300.0),
        },
    }
}

/// Trade modes by enterprise profile: (code, import weight, export weight).
pub(crate) const GENERAL_TRADE_MODES: &[(&str, f64, f64)] = &[
    ("0110", 93.0, 94.0),
    ("3010", 2.5, 2.5),
    ("4561", 1.5, 1.5),
    ("2600", 1.0, 1.0),
    ("1300", 1.0, 1.0),
    ("9610", 0.0, 0.5),
    ("1233", 1.0, 0.0),
];
/// Processing-trade enterprises work under a manual.
pub(crate) const PROCESSING_TRADE_MODES: &[(&str, f64, f64)] = &[
    ("0615", 65.0, 65.0),
    ("0214", 15.0, 15.0),
    ("0110", 20.0, 20.0),
];
/// Cross-border e-commerce enterprises.
pub(crate) const ECOMMERCE_TRADE_MODES: &[(&str, f64, f64)] = &[
    ("1210", 70.0, 0.0),
    ("9610", 0.0, 70.0),
    ("0110", 30.0, 30.0),
];
/// Market procurement (市场采购) exporters, such as Yiwu's.
pub(crate) const MARKET_TRADE_MODES: &[(&str, f64, f64)] =
    &[("1039", 0.0, 80.0), ("0110", 100.0, 20.0)];

/// Levy nature (征免性质) and duty mode (征减免税方式) for a trade mode.
pub(crate) fn levy_for(trade_mode: &str) -> (&'static str, &'static str) {
    match trade_mode {
        // Bonded processing: imported materials are exempt while the manual is open.
        "0615" => ("503", "3"),
        "0214" => ("502", "3"),
        // Returned goods go back without duty.
        "4561" => ("299", "3"),
        "3010" | "2600" | "1300" => ("299", "1"),
        "1233" => ("307", "1"),
        _ => ("101", "1"),
    }
}

/// Package types (GB codes) with weights for ordinary, palletised and bulk consignments.
pub(crate) const CARTON_PACKAGES: &[(&str, f64)] = &[
    ("22", 70.0),
    ("23", 8.0),
    ("06", 10.0),
    ("29", 4.0),
    ("32", 2.0),
    ("99", 3.0),
    ("01", 3.0),
];
/// Heavier consignments travel on pallets.
pub(crate) const PALLET_PACKAGES: &[(&str, f64)] = &[("92", 5.0), ("93", 3.0), ("23", 1.0)];

/// First and second characters of synthetic company cores (华 + 科 = 华科).
pub(crate) const CORE_FIRST: &[&str] = &[
    "华", "鑫", "恒", "宏", "泰", "永", "金", "海", "新", "中", "瑞", "嘉", "博", "天", "盛", "联",
    "东", "南", "长", "利", "信", "富", "致", "凯", "晨", "星", "锦", "安", "明", "万", "润", "德",
    "立", "佳", "通", "宝", "协", "顺", "荣", "鼎", "环", "亿", "百", "卓", "精", "同", "智", "广",
    "兴", "远",
];
/// Second characters of company cores.
pub(crate) const CORE_SECOND: &[&str] = &[
    "科", "达", "盛", "远", "和", "信", "辉", "纳", "亚", "联", "丰", "禾", "成", "创", "通", "源",
    "航", "光", "程", "泰", "美", "昌", "业", "发", "峰", "祥", "诚", "隆", "悦", "腾",
];

/// Line of business in a company name, by the chapters the company trades.
pub(crate) fn industry_words(chapter: u8) -> &'static [&'static str] {
    match chapter {
        84 => &["机械", "机电设备", "智能装备", "精密机械"],
        85 => &["电子", "科技", "电子科技", "微电子", "电器"],
        90 => &["光电", "仪器", "医疗器械", "精密仪器"],
        87 => &["汽车部件", "汽车贸易", "车业"],
        39 | 40 => &["塑胶", "新材料", "橡塑制品"],
        28..=38 => &["化工", "精细化工", "生物科技", "医药"],
        1..=24 => &["食品", "农产品", "粮油", "冷链食品"],
        50..=63 => &["服装", "纺织", "服饰"],
        64..=67 => &["鞋业", "皮具"],
        94..=96 => &["家居", "家具", "玩具", "工艺品"],
        25..=27 => &["能源", "矿产", "石化"],
        72..=83 => &["金属制品", "五金", "钢铁", "有色金属"],
        _ => &["贸易", "实业"],
    }
}

/// Generic lines of business, used for some enterprises whatever they trade.
pub(crate) const GENERIC_INDUSTRY: &[&str] =
    &["贸易", "进出口", "国际贸易", "实业", "供应链管理", "商贸"];

/// Lines of business of customs brokers.
pub(crate) const BROKER_WORDS: &[&str] = &[
    "报关有限公司",
    "报关服务有限公司",
    "国际货运代理有限公司",
    "供应链服务有限公司",
    "国际物流有限公司",
];

/// Surnames of declarants.
pub(crate) const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "邓", "冯", "韩", "曹",
];
/// Given names of declarants.
pub(crate) const GIVEN_NAMES: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明",
    "超", "秀英", "华", "慧", "建华", "丹", "晓东", "海燕", "志强", "婷", "宇", "鹏", "琳", "欣",
];

/// Parts of overseas company names.
pub(crate) const OVERSEAS_FIRST: &[&str] = &[
    "PACIFIC",
    "GLOBAL",
    "UNITED",
    "NORTHSTAR",
    "SUNRISE",
    "EVERGREEN",
    "GOLDEN",
    "SILVERLINE",
    "BLUE OCEAN",
    "PRIME",
    "ATLAS",
    "ORION",
    "VERTEX",
    "SUMMIT",
    "HARBOR",
    "MERIDIAN",
    "APEX",
    "NOVA",
    "CRESCENT",
    "PIONEER",
    "KEYSTONE",
    "LAKESIDE",
    "REDWOOD",
    "FALCON",
];
/// Second parts of overseas company names.
pub(crate) const OVERSEAS_SECOND: &[&str] = &[
    "TRADING",
    "INDUSTRIES",
    "ELECTRONICS",
    "MACHINERY",
    "FOODS",
    "CHEMICALS",
    "LOGISTICS",
    "TEXTILES",
    "MATERIALS",
    "TECHNOLOGY",
    "RESOURCES",
    "COMPONENTS",
];

/// Legal-form suffix of an overseas company, by country.
pub(crate) fn overseas_suffix(country: &str) -> &'static str {
    match country {
        "USA" => "INC.",
        "CAN" => "LTD.",
        "DEU" => "GMBH",
        "FRA" => "S.A.S.",
        "ITA" | "ESP" => "S.R.L.",
        "NLD" | "BEL" => "B.V.",
        "AUS" | "NZL" => "PTY LTD",
        "MYS" => "SDN. BHD.",
        "IDN" => "PT",
        "BRA" | "CHL" | "MEX" => "LTDA.",
        "RUS" | "BLR" | "KAZ" | "UZB" => "LLC",
        "GBR" | "IND" | "ZAF" => "LIMITED",
        _ => "CO., LTD.",
    }
}

/// Brand names for declaration elements.
pub(crate) const BRANDS: &[&str] = &[
    "海川", "远航", "晨星", "博锐", "中恒", "ZENITH", "BLUEPEAK", "NORDEX", "KAIROS", "ORBITA",
    "MERIDIA", "SOLANO", "TAKAMI", "HANSEON", "VELTRA", "AURELIS", "QUANTRA", "LUMINA", "FERRON",
    "ALPENA",
];
/// Uses.
pub(crate) const USES: &[&str] = &[
    "工业用",
    "民用",
    "生产用",
    "家用",
    "商用",
    "实验用",
    "医用",
    "农业用",
    "通用",
];
/// Materials and compositions that make sense for a chapter's goods.
pub(crate) fn materials(chapter: u8) -> &'static [&'static str] {
    match chapter {
        50..=65 => &[
            "棉100%",
            "涤纶100%",
            "棉60%涤纶40%",
            "锦纶80%氨纶20%",
            "羊毛70%涤纶30%",
        ],
        39 | 40 => &["聚乙烯", "聚丙烯", "聚氯乙烯", "ABS", "天然橡胶"],
        72..=83 => &["钢铁制", "不锈钢", "铝合金", "铜", "非合金钢"],
        28..=38 => &["纯度99%", "含量98%", "水溶液30%", "固体粉末"],
        1..=24 => &["鲜品", "冻品", "干品", "含糖", "不含糖"],
        44..=49 => &["松木", "桉木", "木浆", "纸板"],
        _ => &["钢铁制", "塑料", "铝合金", "玻璃", "陶瓷", "木制", "橡胶"],
    }
}
/// Kinds, grades and types.
pub(crate) const KINDS: &[&str] = &["通用型", "标准型", "其他", "A级", "一级", "普通型"];
/// Working principles and functions.
pub(crate) const FUNCTIONS: &[&str] = &[
    "电动驱动",
    "机械传动",
    "自动控制",
    "数据处理",
    "电磁感应",
    "液压驱动",
];
/// Processing methods that make sense for a chapter's goods.
pub(crate) fn processes(chapter: u8) -> &'static [&'static str] {
    match chapter {
        1..=24 => &["冷冻", "冷藏", "鲜", "干制", "盐腌", "未加工"],
        39 | 40 => &["注塑", "挤出", "压延", "模压"],
        50..=63 => &["机织", "针织", "染色", "印花", "漂白"],
        72..=83 => &["热轧", "冷轧", "锻造", "铸造", "冲压"],
        _ => &["切割", "组装", "烘干", "未加工", "机加工"],
    }
}
/// Packing.
pub(crate) const PACKINGS: &[&str] = &[
    "25千克/袋",
    "纸箱装",
    "散装",
    "200升/桶",
    "1千克/袋",
    "托盘装",
];
/// Fallback values for elements that have no better generator.
pub(crate) const GENERIC_VALUES: &[&str] = &["其他", "无", "见附件", "详见合同"];

/// Sea carriers' bill of lading prefixes.
pub(crate) const CARRIERS: &[&str] = &[
    "COSU", "MEDU", "MAEU", "CMDU", "OOLU", "EGLV", "ONEY", "HLCU", "ZIMU", "YMLU",
];
/// Air waybill airline prefixes.
pub(crate) const AIRLINES: &[(&str, &str)] = &[
    ("999", "CA"),
    ("784", "CZ"),
    ("781", "MU"),
    ("160", "CX"),
    ("180", "KE"),
    ("297", "CI"),
    ("618", "SQ"),
    ("157", "QR"),
    ("176", "EK"),
    ("020", "LH"),
];
/// Container owner codes (ISO 6346, category U).
pub(crate) const CONTAINER_OWNERS: &[&str] = &[
    "COSU", "MSKU", "TGHU", "TCNU", "CAIU", "FCIU", "SEGU", "OOLU", "EGHU", "MSCU", "CMAU", "HLXU",
    "BMOU", "TEMU",
];
/// Vessel names.
pub(crate) const VESSELS: &[&str] = &[
    "PACIFIC HARMONY",
    "EASTERN GLORY",
    "XIN NING BO",
    "ORIENT STAR",
    "JADE BRIDGE",
    "OCEAN PIONEER",
    "HUA HAI 18",
    "MING YANG",
    "GREAT WALL SPIRIT",
    "SILK ROAD EXPRESS",
    "BLUE MERIDIAN",
    "NORTHERN PEARL",
    "GOLDEN HORIZON",
    "SEA DRAGON",
    "ZHONG YUAN 7",
];
/// Hong Kong cross-border lorries carry a Guangdong plate ending in 港.
pub(crate) const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
