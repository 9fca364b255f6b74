//! The manifest model: a conveyance's report of itself and its cargo, whichever message
//! family it came in — UN/EDIFACT CUSCAR and CUSREP (`jinguan_edimap::manifest`) or the China
//! manifest XML (MT1401, MT2401, MT2101, MT3101; `jinguan_chinaport::manifest`) — as the
//! logistics module keeps it.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A conveyance's report of itself and its cargo.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// `CUSCAR`, `CUSREP`, or the China message type (`MT1401`...).
    pub message_type: String,
    /// Document name code and number (`BGM` 1001, 1004).
    pub document: (String, String),
    /// Message function (`BGM` 1225).
    pub function: String,
    /// The conveyance.
    pub conveyance: Conveyance,
    /// Places: qualifier and code (`LOC`).
    pub places: Vec<(String, String)>,
    /// Dates: qualifier and value (`DTM`).
    pub dates: Vec<(String, String)>,
    /// Parties named outside consignments: role, identification, name.
    pub parties: Vec<(String, String, String)>,
    /// References outside consignments: qualifier and value.
    pub references: Vec<(String, String)>,
    /// Consignments.
    pub consignments: Vec<Consignment>,
    /// Equipment named outside consignments.
    pub equipment: Vec<Equipment>,
    /// Segments read that the model has no place for.
    pub unmapped: usize,
}

/// The means of transport.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conveyance {
    /// Transport stage qualifier (`TDT` 8051).
    pub stage: String,
    /// Voyage or conveyance reference (8028).
    pub voyage: String,
    /// Mode of transport (8067).
    pub mode: String,
    /// Carrier identification (C040 3127).
    pub carrier: String,
    /// Identification (C222 8213), e.g. the IMO number or call sign.
    pub id: String,
    /// Name (C222 8212).
    pub name: String,
    /// Nationality (C222 8453).
    pub nationality: String,
}

/// One consignment (a transport document's goods).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Consignment {
    /// Its sequence number (`CNI` 1490).
    pub seq: String,
    /// Transport document: qualifier and number (`CNI` C503, or `RFF` BM/AAM…).
    pub document: (String, String),
    /// References: qualifier and value.
    pub references: Vec<(String, String)>,
    /// Places: qualifier and code.
    pub places: Vec<(String, String)>,
    /// Parties: role, identification, name.
    pub parties: Vec<(String, String, String)>,
    /// Goods items.
    pub goods: Vec<Goods>,
    /// Equipment.
    pub equipment: Vec<Equipment>,
}

/// One goods item of a consignment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Goods {
    /// Item number (`GID` 1496).
    pub seq: String,
    /// Packages: count and type.
    pub packages: Option<(Decimal, String)>,
    /// Description (`FTX+AAA`).
    pub description: String,
    /// Gross weight, with its unit (`MEA+WT+AAB` / `G`).
    pub gross_weight: Option<(Decimal, String)>,
    /// Commodity code (`PIA`, `CST` or `RFF`), when given.
    pub commodity: String,
}

/// A container or other equipment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Equipment {
    /// Qualifier (`EQD` 8053: `CN` container …).
    pub kind: String,
    /// Identification (8260).
    pub id: String,
    /// Size and type (8155).
    pub size_type: String,
    /// Seals (`SEL`).
    pub seals: Vec<String>,
}
