//! China manifests (舱单): the new manifest system's XML messages — MT1401/MT2401 road
//! manifests (公路), MT2101 export pre-stowage manifests and MT3101 arrival reports — read
//! into the manifest model CUSCAR and CUSREP are read into
//! ([`jinguan_types::manifest::Manifest`]), for the logistics module.
//!
//! The document element is `Manifest` in a namespace `urn:Declaration:datamodel:standard:CN:
//! MTnnnn:1`; `Head` says what it is (`MessageID`, `FunctionCode`, `MessageType`, `SenderID`,
//! `ReceiverID`, `SendTime` `yyyyMMddHHmmssSSS`, `Version`); `Declaration` follows the WCO data
//! model. Places take the UN/EDIFACT 3227 qualifiers CUSCAR uses (9 loading, 11 discharge,
//! 88 receipt, 13 transhipment, 60 first arrival, 7 delivery, 22 customs office), parties the
//! 3035 roles (`CA` carrier, `AG` agent, `CN` consignee, `CZ` consignor, `NI` notify), so one
//! query reads manifests of either family. No official schema is published for these
//! messages; what the model has no place for is counted in `unmapped`, and the message stays
//! in the ledger as received.

use jinguan_types::manifest::{Consignment, Conveyance, Equipment, Goods, Manifest};
use jinguan_types::{Diagnostic, Severity};
use rust_decimal::Decimal;

use crate::xml::{self, Element};

/// The message types read here.
pub const TYPES: &[&str] = &["MT1401", "MT2401", "MT2101", "MT3101"];

/// Why a document is not a China manifest at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not well-formed, hostile or too large.
    #[error(transparent)]
    Xml(#[from] xml::XmlError),
    /// The document element is not a manifest this reader knows.
    #[error("X0340: {0}")]
    NotManifest(String),
}

impl ManifestError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(e) => e.code,
            Self::NotManifest(_) => "X0340",
        }
    }
}

fn text<'a>(element: &'a Element, path: &[&str]) -> &'a str {
    let mut at = element;
    for name in path {
        match at.child(name) {
            Some(child) => at = child,
            None => return "",
        }
    }
    at.text.as_str()
}

fn measure(
    element: Option<&Element>,
    attribute: &str,
    diagnostics: &mut Vec<Diagnostic>,
    path: &str,
) -> Option<(Decimal, String)> {
    let element = element?;
    match element.text.parse::<Decimal>() {
        Ok(value) => Some((
            value,
            element.attribute(attribute).unwrap_or_default().to_owned(),
        )),
        Err(_) => {
            diagnostics.push(Diagnostic::new(
                Severity::Warning,
                "X0341",
                path,
                format!("{:?} is not a number; left out", element.text),
            ));
            None
        }
    }
}

/// Which parts of a manifest the model takes; everything else is counted as unmapped.
const READ: &[&str] = &[
    "DeclarationOfficeID",
    "ID",
    "Agent",
    "Carrier",
    "BorderTransportMeans",
    "Consignment",
    "AdditionalInformation",
    "RepresentativePerson",
];

fn party(role: &str, element: &Element) -> (String, String, String) {
    (
        role.to_owned(),
        text(element, &["ID"]).to_owned(),
        text(element, &["Name"]).to_owned(),
    )
}

fn places(element: &Element, out: &mut Vec<(String, String)>) {
    for (name, qualifier) in [
        ("LoadingLocation", "9"),
        ("UnloadingLocation", "11"),
        ("GoodsReceiptPlace", "88"),
        ("TranshipmentLocation", "13"),
        ("TransitDestination", "7"),
        ("DeliveryDestination", "7"),
    ] {
        if let Some(place) = element.child(name) {
            let id = text(place, &["ID"]);
            let id = if id.is_empty() {
                place.text.as_str()
            } else {
                id
            };
            if !id.is_empty() {
                out.push((qualifier.to_owned(), id.to_owned()));
            }
        }
    }
}

/// Reads a China manifest into the manifest model, with warnings for values left out.
pub fn parse(bytes: &[u8]) -> Result<(Manifest, Vec<Diagnostic>), ManifestError> {
    let document = xml::parse(bytes, xml::Limits::default())?;
    let namespace = document
        .attributes
        .iter()
        .find(|(n, _)| n == "xmlns")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    let head = document.child("Head");
    let message_type = head
        .map(|h| text(h, &["MessageType"]).to_owned())
        .filter(|t| !t.is_empty())
        .or_else(|| {
            namespace
                .strip_prefix("urn:Declaration:datamodel:standard:CN:")
                .and_then(|rest| rest.split(':').next())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    if document.name != "Manifest" || !TYPES.contains(&message_type.as_str()) {
        return Err(ManifestError::NotManifest(format!(
            "{} of type {message_type:?} is not one of the manifests read here ({})",
            document.name,
            TYPES.join(", ")
        )));
    }
    let Some(declaration) = document.child("Declaration") else {
        return Err(ManifestError::NotManifest(
            "the manifest has no Declaration".into(),
        ));
    };
    let mut diagnostics = Vec::new();
    let mut manifest = Manifest {
        message_type: message_type.clone(),
        document: (message_type, text(declaration, &["ID"]).to_owned()),
        function: head
            .map(|h| text(h, &["FunctionCode"]).to_owned())
            .unwrap_or_default(),
        ..Manifest::default()
    };
    if let Some(head) = head {
        for (qualifier, name) in [("message", "MessageID"), ("sender", "SenderID")] {
            let value = text(head, &[name]);
            if !value.is_empty() {
                manifest.references.push((qualifier.into(), value.into()));
            }
        }
        let sent = text(head, &["SendTime"]);
        if !sent.is_empty() {
            manifest.dates.push(("137".into(), sent.into()));
        }
    }
    let office = text(declaration, &["DeclarationOfficeID"]);
    if !office.is_empty() {
        manifest.places.push(("22".into(), office.into()));
    }
    if let Some(means) = declaration.child("BorderTransportMeans") {
        manifest.conveyance = Conveyance {
            stage: "20".into(),
            voyage: text(means, &["JourneyID"]).into(),
            mode: text(means, &["TypeCode"]).into(),
            carrier: text(declaration, &["Carrier", "ID"]).into(),
            id: text(means, &["ID"]).into(),
            name: text(means, &["Name"]).into(),
            nationality: text(means, &["RegistrationNationalityCode"]).into(),
        };
        let first = text(means, &["FirstArrivalLocationID"]);
        if !first.is_empty() {
            manifest.places.push(("60".into(), first.into()));
        }
        for (qualifier, name) in [("132", "ArrivalDateTime"), ("133", "DepartureDateTime")] {
            let value = text(means, &[name]);
            if !value.is_empty() {
                manifest.dates.push((qualifier.into(), value.into()));
            }
        }
    } else {
        manifest.conveyance.carrier = text(declaration, &["Carrier", "ID"]).into();
    }
    for (role, name) in [("AG", "Agent"), ("CA", "Carrier")] {
        if let Some(element) = declaration.child(name) {
            manifest.parties.push(party(role, element));
        }
    }
    for (n, consignment) in declaration
        .children
        .iter()
        .filter(|c| c.name == "Consignment")
        .enumerate()
    {
        let path = format!("Declaration/Consignment[{}]", n + 1);
        let mut read = Consignment {
            seq: (n + 1).to_string(),
            document: (
                "BM".into(),
                text(consignment, &["TransportContractDocument", "ID"]).into(),
            ),
            ..Consignment::default()
        };
        let house = text(consignment, &["AssociatedTransportDocument", "ID"]);
        if !house.is_empty() {
            read.references.push(("BH".into(), house.into()));
        }
        places(consignment, &mut read.places);
        for (role, name) in [
            ("CN", "Consignee"),
            ("CZ", "Consignor"),
            ("NI", "NotifyParty"),
        ] {
            if let Some(element) = consignment.child(name) {
                read.parties.push(party(role, element));
            }
        }
        for (i, item) in consignment
            .children
            .iter()
            .filter(|c| c.name == "ConsignmentItem")
            .enumerate()
        {
            let item_path = format!("{path}/ConsignmentItem[{}]", i + 1);
            let packages = item.child("Packaging").and_then(|p| {
                let quantity = p.child("QuantityQuantity");
                measure(quantity, "unitCode", &mut diagnostics, &item_path).map(|(q, unit)| {
                    let kind = text(p, &["TypeCode"]);
                    (
                        q,
                        if kind.is_empty() {
                            unit
                        } else {
                            kind.to_owned()
                        },
                    )
                })
            });
            read.goods.push(Goods {
                seq: text(item, &["SequenceNumeric"]).into(),
                packages,
                description: text(item, &["Commodity", "CargoDescription"]).into(),
                gross_weight: measure(
                    item.child("GoodsMeasure")
                        .and_then(|g| g.child("GrossMassMeasure")),
                    "unitCode",
                    &mut diagnostics,
                    &item_path,
                ),
                commodity: text(item, &["Commodity", "Classification", "ID"]).into(),
            });
        }
        for equipment in consignment
            .children
            .iter()
            .filter(|c| c.name == "TransportEquipment")
        {
            read.equipment.push(Equipment {
                kind: "CN".into(),
                id: text(equipment, &["EquipmentIdentification", "ID"]).into(),
                size_type: text(equipment, &["CharacteristicCode"]).into(),
                seals: equipment
                    .children
                    .iter()
                    .filter(|c| c.name == "SealID")
                    .map(|c| c.text.to_string())
                    .collect(),
            });
        }
        manifest.consignments.push(read);
    }
    manifest.unmapped = declaration
        .children
        .iter()
        .filter(|c| !READ.contains(&c.name.as_str()))
        .count();
    Ok((manifest, diagnostics))
}
