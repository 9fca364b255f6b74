//! CUSCAR (cargo report) and CUSREP (conveyance report) read into one manifest model, kept for
//! the logistics module: the conveyance and its voyage, places and dates, parties, consignments
//! (transport document, goods, packages, weights, equipment) and equipment.
//!
//! Reading follows the segments' roles rather than one release's group numbers, so the D95B,
//! D99A, D99B and D03B usages in the corpus all read: `TDT` is the conveyance; in a CUSCAR a
//! `CNI` (or, in older usages, an `RFF` with a transport document qualifier after the header)
//! opens a consignment, `GID` a goods item within it, `EQD` a piece of equipment (within a
//! consignment when one is open). What has no place in the model is counted, not lost: the
//! message itself stays in the ledger as received.

use rust_decimal::Decimal;

use crate::segments::Seg;

pub use jinguan_types::manifest::{Consignment, Conveyance, Equipment, Goods, Manifest};

fn decimal(text: &str) -> Option<Decimal> {
    text.replace(',', ".").parse().ok()
}

fn party(seg: &Seg) -> (String, String, String) {
    let name = seg
        .elements
        .get(3)
        .map(|c| c.join(" "))
        .filter(|n| !n.is_empty())
        .or_else(|| seg.elements.get(2).map(|c| c.join(" ")))
        .unwrap_or_default();
    (seg.get(0, 0).into(), seg.get(1, 0).into(), name)
}

/// Transport document qualifiers an `RFF` opens a consignment with in usages without `CNI`.
const DOCUMENTS: &[&str] = &["BM", "AAM", "MB", "BH", "AWB", "ABW"];

/// Reads a CUSCAR's or CUSREP's segments (`UNH` to `UNT`).
pub fn read(segments: &[Seg]) -> Manifest {
    let mut m = Manifest::default();
    let mut in_detail = false;
    for seg in segments {
        let q = seg.get(0, 0);
        match seg.tag.as_str() {
            "UNH" => m.message_type = seg.get(1, 0).into(),
            "UNT" => {}
            "BGM" => {
                m.document = (q.into(), seg.get(1, 0).into());
                m.function = seg.get(2, 0).into();
            }
            "TDT" if m.consignments.is_empty() => {
                m.conveyance = Conveyance {
                    stage: q.into(),
                    voyage: seg.get(1, 0).into(),
                    mode: seg.get(2, 0).into(),
                    carrier: seg.get(4, 0).into(),
                    id: seg.get(7, 0).into(),
                    name: seg.get(7, 3).into(),
                    nationality: seg.get(7, 4).into(),
                };
            }
            "UNS" => in_detail = true,
            "CNI" => {
                m.consignments.push(Consignment {
                    seq: q.into(),
                    document: (seg.get(1, 1).into(), seg.get(1, 0).into()),
                    ..Consignment::default()
                });
            }
            "RFF" if DOCUMENTS.contains(&q) && (in_detail || m.message_type == "CUSCAR") => {
                match m.consignments.last_mut() {
                    Some(c) if c.document.1.is_empty() => {
                        c.document = (q.into(), seg.get(0, 1).into());
                    }
                    Some(c) if c.goods.is_empty() && c.equipment.is_empty() => {
                        c.references.push((q.into(), seg.get(0, 1).into()));
                    }
                    _ => m.consignments.push(Consignment {
                        document: (q.into(), seg.get(0, 1).into()),
                        ..Consignment::default()
                    }),
                }
            }
            "RFF" => {
                let reference = (q.to_owned(), seg.get(0, 1).to_owned());
                match m.consignments.last_mut() {
                    Some(c) => c.references.push(reference),
                    None => m.references.push(reference),
                }
            }
            "LOC" => {
                let place = (q.to_owned(), seg.get(1, 0).to_owned());
                match m.consignments.last_mut() {
                    Some(c) => c.places.push(place),
                    None => m.places.push(place),
                }
            }
            "DTM" if m.consignments.is_empty() => {
                m.dates.push((q.into(), seg.get(0, 1).into()));
            }
            "NAD" => match m.consignments.last_mut() {
                Some(c) => c.parties.push(party(seg)),
                None => m.parties.push(party(seg)),
            },
            "GID" => {
                let Some(c) = m.consignments.last_mut() else {
                    m.unmapped += 1;
                    continue;
                };
                let packages = decimal(seg.get(1, 0)).map(|n| (n, seg.get(1, 1).to_owned()));
                c.goods.push(Goods {
                    seq: q.into(),
                    packages,
                    ..Goods::default()
                });
            }
            "FTX" if q == "AAA" => {
                match m.consignments.last_mut().and_then(|c| c.goods.last_mut()) {
                    Some(g) => {
                        let text = seg.elements.get(3).map(|c| c.join(" ")).unwrap_or_default();
                        if !g.description.is_empty() {
                            g.description.push(' ');
                        }
                        g.description.push_str(&text);
                    }
                    None => m.unmapped += 1,
                }
            }
            "MEA" if q == "WT" || q == "AAE" => {
                let weight = decimal(seg.get(2, 1)).map(|w| (w, seg.get(2, 0).to_owned()));
                match m.consignments.last_mut().and_then(|c| c.goods.last_mut()) {
                    Some(g) if g.gross_weight.is_none() => g.gross_weight = weight,
                    _ => m.unmapped += 1,
                }
            }
            "PIA" | "CST" => match m.consignments.last_mut().and_then(|c| c.goods.last_mut()) {
                Some(g) => g.commodity = seg.get(1, 0).into(),
                None => m.unmapped += 1,
            },
            "EQD" => {
                let equipment = Equipment {
                    kind: q.into(),
                    id: seg.get(1, 0).into(),
                    size_type: seg.get(2, 0).into(),
                    seals: Vec::new(),
                };
                match m.consignments.last_mut() {
                    Some(c) => c.equipment.push(equipment),
                    None => m.equipment.push(equipment),
                }
            }
            "SEL" => {
                let seal = q.to_owned();
                let last = match m.consignments.last_mut() {
                    Some(c) => c.equipment.last_mut(),
                    None => m.equipment.last_mut(),
                };
                match last {
                    Some(e) => e.seals.push(seal),
                    None => m.unmapped += 1,
                }
            }
            _ => m.unmapped += 1,
        }
    }
    m
}
