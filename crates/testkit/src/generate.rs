//! Building one declaration from its own random stream.

use std::fmt::Write;

use chrono::{Datelike, Days, NaiveDate};
use jinguan_types::declaration::{
    Charge, Container, Declaration, FreeText, GoodsItem, Head, OverseasParty, Party, SignatureBlock,
};
use jinguan_types::IeFlag;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::catalog::{self, AIR, RAIL, ROAD, SEA};
use crate::goods::{Element, GoodsLine};
use crate::ids::{self, splitmix64};
use crate::population::{pick, Enterprise};
use crate::{Generator, Partner};

/// Median value of a goods item in US dollars, before the enterprise's and the chapter's
/// scale.
const MEDIAN_ITEM_USD: f64 = 2500.0;
/// Spread of item values (sigma of the log).
const ITEM_VALUE_SIGMA: f64 = 1.1;
/// Ceiling of an item's value in dollars; bulk chapters may go [`BULK_VALUE_FACTOR`] times
/// higher (a ship load of ore).
const MAX_ITEM_USD: f64 = 5_000_000.0;
/// See [`MAX_ITEM_USD`].
const BULK_VALUE_FACTOR: f64 = 10.0;
/// At most this many packages are declared; larger consignments are counted in pallets.
const MAX_PACKAGES: f64 = 9_999.0;
/// Chapters whose goods travel in bulk carriers when a consignment is large.
const BULK_CHAPTERS: &[u8] = &[10, 12, 25, 26, 27, 31, 44, 47, 72];
/// Consignments heavier than this (kilograms) go by sea rather than by air.
const MAX_AIR_KG: i64 = 5_000;
/// A consignment heavier than this (kilograms) in bulk chapters goes unpacked.
const BULK_KG: i64 = 100_000;

/// What the item builder needs to know about the declaration around it.
struct Context<'a> {
    import: bool,
    partner: &'a Partner,
    currency: &'static str,
    per_usd: f64,
    owner: &'a Enterprise,
    processing: bool,
    duty_mode: &'static str,
    declaration_date: NaiveDate,
}

impl Generator {
    /// Declaration number `index`: the same for a given seed whatever else is generated, so
    /// ranges can be generated independently and in parallel.
    pub fn declaration(&self, index: u64) -> Declaration {
        let mut rng = ChaCha8Rng::seed_from_u64(self.options.seed ^ splitmix64(index));
        let rng = &mut rng;
        let enterprises = &self.population.enterprises;
        let import = rng.gen_bool(crate::IMPORT_SHARE);

        let trader_index = *self.population.traders.sample(rng);
        let trader = &enterprises[trader_index];
        // Most goods are consumed or produced by the consignee itself; otherwise by another
        // enterprise of the same region.
        let mut owner = trader;
        if rng.gen_bool(0.15) {
            for _ in 0..4 {
                let other = &enterprises[*self.population.traders.sample(rng)];
                if other.cluster == trader.cluster {
                    owner = other;
                    break;
                }
            }
        }
        let agent_index = match trader.usual_broker {
            Some(usual) if rng.gen_bool(0.9) => usual,
            Some(_) => self
                .population
                .some_broker(trader.cluster, rng)
                .unwrap_or(trader_index),
            None => trader_index,
        };
        let agent = &enterprises[agent_index];
        let declarant = &agent.staff[rng.gen_range(0..agent.staff.len())];

        let mut choice = *self.clusters[trader.cluster].sample(rng);
        let mode = *self.trade_modes[trader.profile as usize][usize::from(!import)].sample(rng);
        let partner_index = match choice.office.mode {
            ROAD => *self.road_partners.sample(rng),
            RAIL => *self.rail_partners.sample(rng),
            _ if import => *self.import_partners.sample(rng),
            _ => *self.export_partners.sample(rng),
        };
        let partner = &self.partners[partner_index];

        let declaration_date = *self.days.sample(rng);
        let lag = Days::new([0, 0, 0, 0, 0, 1, 1, 1, 2, 3][rng.gen_range(0..10)]);
        // Imports are declared after arrival, exports before departure; both stay in 2026.
        let ie_date = if import {
            declaration_date
                .checked_sub_days(lag)
                .filter(|d| d.year() == 2026)
                .unwrap_or(declaration_date)
        } else {
            declaration_date
                .checked_add_days(lag)
                .filter(|d| d.year() == 2026)
                .unwrap_or(declaration_date)
        };

        // Mostly dollars; some partners invoice in their own currency, some trade is in yuan.
        let roll: f64 = rng.gen();
        let (currency, per_usd) = match partner.currency {
            Some(local) if roll < 0.12 => local,
            _ if (0.12..0.17).contains(&roll) => self.cny,
            _ => self.usd,
        };
        let terms = {
            let roll: f64 = rng.gen();
            let (cif, cfr) = if import { (0.50, 0.65) } else { (0.25, 0.35) };
            if roll < cif {
                "1"
            } else if roll < cfr {
                "2"
            } else {
                "3"
            }
        };

        let context = Context {
            import,
            partner,
            currency,
            per_usd,
            owner,
            processing: matches!(mode.code, "0615" | "0214"),
            duty_mode: mode.duty_mode,
            declaration_date,
        };
        let count = *self.item_counts.sample(rng);
        let mut items = Vec::with_capacity(count as usize);
        let mut net_cents: i64 = 0;
        let mut value_usd = 0.0;
        let mut all_bulk = true;
        for seq in 1..=count {
            let (line, own) = match trader.chapters.len() {
                // Traders mostly deal in their own lines of business.
                n if n > 0 && rng.gen_bool(0.75) => {
                    let chapter =
                        &self.goods.chapters.items()[trader.chapters[rng.gen_range(0..n)]];
                    (self.goods.line_in(chapter, rng), true)
                }
                _ => (self.goods.any_line(rng), false),
            };
            all_bulk &= BULK_CHAPTERS.contains(&line.chapter);
            let (item, item_net_cents, item_usd) = self.item(seq, line, own, &context, trader, rng);
            net_cents += item_net_cents;
            value_usd += item_usd;
            items.push(item);
        }

        // Heavy consignments do not fly: move them to the cluster's sea port, if it has one.
        // Sea and air partners come from the same list, so the partner stays valid.
        if choice.office.mode == AIR && net_cents > MAX_AIR_KG * 100 {
            if let Some(sea) = &self.sea_offices[trader.cluster] {
                choice = *sea.sample(rng);
            }
        }
        let office = choice.office;
        let bulk = all_bulk && office.mode == SEA && net_cents > BULK_KG * 100;
        let (gross_cents, package_type, packages) = if bulk {
            let gross = net_cents + (net_cents as f64 * rng.gen_range(0.0..0.005)) as i64 + 1;
            (gross, "00", 1)
        } else {
            let packing =
                net_cents as f64 * rng.gen_range(0.03..0.18) + rng.gen_range(50.0..2000.0);
            let gross = net_cents + packing as i64 + 1;
            let gross_kg = gross as f64 / 100.0;
            // Light consignments go in cartons and bags, heavy ones mostly on pallets.
            let (package_type, per_package) = if gross_kg > 3000.0 && rng.gen_bool(0.7) {
                (
                    *self.pallet_packages.sample(rng),
                    rng.gen_range(300.0..900.0),
                )
            } else {
                (*self.carton_packages.sample(rng), rng.gen_range(5.0..30.0))
            };
            let packages = (gross_kg / per_package).ceil().clamp(1.0, MAX_PACKAGES) as u32;
            (gross, package_type, packages)
        };

        let containers = if office.mode == SEA && !bulk {
            self.containers(count, gross_cents, rng)
        } else {
            Vec::new()
        };

        let needs_freight = if import { terms == "3" } else { terms != "3" };
        let needs_insurance = if import { terms != "1" } else { terms == "1" };
        let freight = if needs_freight {
            freight(value_usd, currency, per_usd, rng)
        } else {
            Charge::default()
        };
        let insurance = if needs_insurance {
            insurance(value_usd, currency, per_usd, rng)
        } else {
            Charge::default()
        };
        let other_charges = if rng.gen_bool(0.05) {
            Charge {
                mark: Some("3".to_owned()),
                rate: Some(cents(rng.gen_range(50.0..800.0) * per_usd)),
                currency: Some(currency.to_owned()),
            }
        } else {
            Charge::default()
        };

        let foreign_port = partner.ports.as_ref().map(|p| p.sample(rng).clone());
        let (departure_port, destination_port) = if import {
            let call = match (&foreign_port, office.mode) {
                (Some(_), SEA) if rng.gen_bool(0.2) && !self.transit_ports.is_empty() => {
                    Some(pick(rng, &self.transit_ports).to_owned())
                }
                _ => foreign_port.clone(),
            };
            (foreign_port, call)
        } else {
            (choice.chn_port.map(str::to_owned), foreign_port)
        };
        let trade_area_country = if rng.gen_bool(0.9) || partner.code == "HKG" {
            partner.code
        } else {
            ["HKG", "SGP"][rng.gen_range(0..2)]
        };
        let overseas = OverseasParty {
            name_en: Some(overseas_name(partner.code, rng)),
            ..OverseasParty::default()
        };
        let (overseas_consignor, overseas_consignee) = if import {
            (overseas, OverseasParty::default())
        } else {
            (OverseasParty::default(), overseas)
        };
        let (bill_of_lading, transport_means, voyage) =
            transport_documents(office.mode, office.declaring, rng);
        let sign_time = format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            declaration_date.year(),
            declaration_date.month(),
            declaration_date.day(),
            rng.gen_range(8..21),
            rng.gen_range(0..60),
            rng.gen_range(0..60)
        );

        let head = Head {
            ie_flag: Some(if import {
                IeFlag::Import
            } else {
                IeFlag::Export
            }),
            entry_type: Some("M".to_owned()),
            edi_id: Some("1".to_owned()),
            declaration_transit_relation: Some("0".to_owned()),
            declaring_customs: Some(office.declaring.to_owned()),
            ie_port: Some(office.ie_port.to_owned()),
            // Placeholder in the shape of a 口岸 code: the data has no table of them.
            entry_exit_port: Some(format!("{}01", office.ie_port)),
            ie_date: Some(ie_date),
            declaration_date: Some(declaration_date),
            consignee: party(trader),
            owner: party(owner),
            agent: party(agent),
            input_unit: party(agent),
            filing_no: if context.processing {
                trader.filing_no.clone()
            } else {
                None
            },
            contract_no: Some(contract_no(trader, declaration_date, rng)),
            bill_of_lading: Some(bill_of_lading),
            transport_mode: Some(office.mode.to_owned()),
            transport_means: Some(transport_means),
            trade_mode: Some(mode.code.to_owned()),
            levy_nature: mode.levy_nature.map(str::to_owned),
            trade_country: Some(partner.code.to_owned()),
            trade_area_country: Some(trade_area_country.to_owned()),
            departure_port,
            destination_port,
            transaction_terms: Some(terms.to_owned()),
            freight,
            insurance,
            other_charges,
            packages: Some(packages),
            package_type: Some(package_type.to_owned()),
            no_other_packages: Some("1".to_owned()),
            gross_weight_kg: Some(Decimal::new(gross_cents, 2)),
            net_weight_kg: Some(Decimal::new(net_cents, 2)),
            marks: Some("N/M".to_owned()),
            overseas_consignor,
            overseas_consignee,
            promise_items: Some(if import { "000" } else { "999" }.to_owned()),
            typist_no: Some(declarant.card.clone()),
            inputer_name: Some(declarant.name.clone()),
            declarer_name: Some(declarant.name.clone()),
            ..Head::default()
        };
        let signature = SignatureBlock {
            operation: Some("C".to_owned()),
            ic_card: Some(declarant.card.clone()),
            company_code: Some(agent.customs_code.clone()),
            operator_name: Some(declarant.name.clone()),
            client_seq_no: Some(client_seq_no(self.options.seed, index)),
            sign_date: Some(sign_time),
            ..SignatureBlock::default()
        };
        Declaration {
            head,
            items,
            containers,
            free_text: FreeText {
                voyage_no: voyage,
                ..FreeText::default()
            },
            signature: Some(signature),
            ..Declaration::default()
        }
    }

    /// One goods item, its net weight in hundredths of a kilogram and its value in dollars.
    /// `own` tells whether the goods are in the trader's line of business: only then do bulk
    /// goods come by the ship load.
    fn item<R: Rng>(
        &self,
        seq: u32,
        line: &GoodsLine,
        own: bool,
        cx: &Context<'_>,
        trader: &Enterprise,
        rng: &mut R,
    ) -> (GoodsItem, i64, f64) {
        let chapter_scale = if own {
            catalog::chapter_value_scale(line.chapter)
        } else {
            1.0
        };
        let median = MEDIAN_ITEM_USD * trader.scale * chapter_scale;
        let z: f64 = rng.sample(StandardNormal);
        let ceiling = if own && BULK_CHAPTERS.contains(&line.chapter) {
            MAX_ITEM_USD * BULK_VALUE_FACTOR
        } else {
            MAX_ITEM_USD
        };
        let mut usd = (median * (ITEM_VALUE_SIGMA * z).exp()).clamp(1.0, ceiling);
        let z: f64 = rng.sample(StandardNormal);
        let price = line.usd_per_unit1 * (0.3 * z).exp();
        // Whole units cost at least one unit's price: nobody declares a tenth of a car.
        if line.p1.decimals == 0 && usd < price {
            usd = price * rng.gen_range(1.0..1.5);
        }
        let q1 = scaled(usd / price, line.p1.decimals);
        let q1_value = q1 as f64 / pow10(line.p1.decimals);
        let net = if line.unit1_kg {
            q1
        } else {
            let z: f64 = rng.sample(StandardNormal);
            ((q1_value * line.p1.kg * (0.2 * z).exp()) * 100.0)
                .round()
                .max(1.0) as i64
        };
        let q2 = match (line.unit2_kg, line.p2) {
            (true, _) => Some(net),
            (false, Some(p2)) => {
                let z: f64 = rng.sample(StandardNormal);
                Some(scaled(
                    net as f64 / 100.0 / p2.kg * (0.15 * z).exp(),
                    p2.decimals,
                ))
            }
            (false, None) => None,
        };
        let legal_1 = Decimal::new(q1, line.p1.decimals);
        let legal_2 = q2
            .zip(line.p2)
            .map(|(q, p)| Decimal::new(q, if line.unit2_kg { 2 } else { p.decimals }));
        let (declared_qty, declared_unit) = match (&legal_2, &line.unit2) {
            (Some(q), Some(unit)) if rng.gen_bool(0.15) => (*q, unit.clone()),
            _ => (legal_1, line.unit1.clone()),
        };
        let total = cents(usd * cx.per_usd);
        let unit_price = (total / declared_qty)
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);

        let (origin, destination) = if cx.import {
            // Goods bought through Hong Kong or Macao were mostly made elsewhere.
            let entrepot = matches!(cx.partner.code, "HKG" | "MAC");
            let origin = if entrepot || rng.gen_bool(0.25) {
                self.partners[*self.import_partners.sample(rng)].code
            } else {
                cx.partner.code
            };
            (origin, "CHN")
        } else {
            let destination = if rng.gen_bool(0.95) {
                cx.partner.code
            } else {
                self.partners[*self.export_partners.sample(rng)].code
            };
            ("CHN", destination)
        };
        let item = GoodsItem {
            seq: Some(seq),
            contract_item: cx.processing.then(|| rng.gen_range(1..=300u32).to_string()),
            hs_code: Some(line.hs.clone()),
            ciq_code: Some("999".to_owned()),
            name: Some(line.name.clone()),
            elements: Some(elements(line, cx, rng)),
            declared_qty: Some(declared_qty),
            declared_unit: Some(declared_unit),
            legal_qty_1: Some(legal_1),
            legal_unit_1: Some(line.unit1.clone()),
            legal_qty_2: legal_2,
            legal_unit_2: line.unit2.clone(),
            unit_price: Some(unit_price),
            total_price: Some(total),
            currency: Some(cx.currency.to_owned()),
            origin_country: Some(origin.to_owned()),
            destination_country: Some(destination.to_owned()),
            domestic_district: Some(cx.owner.district().to_owned()),
            destination_division: cx.import.then(|| cx.owner.division.to_owned()),
            duty_mode: Some(cx.duty_mode.to_owned()),
            ..GoodsItem::default()
        };
        (item, net, usd)
    }

    /// Containers for a sea consignment, with ISO 6346 numbers and their tare weights.
    fn containers<R: Rng>(&self, items: u32, gross_cents: i64, rng: &mut R) -> Vec<Container> {
        let gross_kg = gross_cents as f64 / 100.0;
        let forty = gross_kg > 8000.0 || rng.gen_bool(0.3);
        let (size, tare) = if forty {
            (self.container_sizes.1, 3750)
        } else {
            (self.container_sizes.0, 2200)
        };
        let count = (gross_kg / 22_000.0).ceil().clamp(1.0, 8.0) as usize;
        let mut goods_items = String::with_capacity(items as usize * 3);
        for seq in 1..=items {
            if seq > 1 {
                goods_items.push(',');
            }
            let _ = write!(goods_items, "{seq}");
        }
        let lcl = if gross_kg < 3000.0 { "1" } else { "0" };
        (0..count)
            .map(|_| Container {
                container_no: Some(ids::container_number(
                    pick(rng, catalog::CONTAINER_OWNERS),
                    rng.gen_range(0..1_000_000),
                )),
                size_code: size.map(str::to_owned),
                weight_kg: Some(Decimal::from(tare)),
                goods_items: Some(goods_items.clone()),
                lcl_flag: Some(lcl.to_owned()),
                ..Container::default()
            })
            .collect()
    }
}

/// The declaration elements (规格型号), `|`-separated, one field per published element: brand
/// type and export preference codes first, then a value for each element by its kind.
fn elements<R: Rng>(line: &GoodsLine, cx: &Context<'_>, rng: &mut R) -> String {
    let mut text = String::with_capacity(16 + line.elements.len() * 10);
    // 0 no brand, 1 domestic own brand, 2 domestic acquired, 3 foreign (OEM), 4 foreign other.
    let brand_type = [0, 0, 0, 0, 1, 1, 2, 3, 4, 4][rng.gen_range(0..10)];
    let branded = brand_type != 0;
    if line.leading_codes {
        // 3 means "not applicable" on imports; exports state whether the destination grants
        // a preference (0 no, 1 yes, 2 unknown).
        let preference = if cx.import {
            3
        } else {
            [0, 0, 0, 1, 1, 2][rng.gen_range(0..6)]
        };
        let _ = write!(text, "{brand_type}|{preference}");
    }
    for (i, element) in line.elements.iter().enumerate() {
        if i > 0 || line.leading_codes {
            text.push('|');
        }
        match element {
            Element::Blank => {}
            Element::Brand if branded => text.push_str(pick(rng, catalog::BRANDS)),
            Element::Brand => text.push_str("无品牌"),
            Element::Model => {
                let letters = [b'A' + rng.gen_range(0..26), b'A' + rng.gen_range(0..26)];
                let _ = write!(
                    text,
                    "{}{}-{}",
                    char::from(letters[0]),
                    char::from(letters[1]),
                    rng.gen_range(100..10_000)
                );
            }
            Element::Gtin => {
                if rng.gen_bool(0.15) {
                    let _ = write!(text, "69{:011}", rng.gen_range(0..100_000_000_000u64));
                }
            }
            Element::Cas => {
                if matches!(line.chapter, 28 | 29 | 38) && rng.gen_bool(0.7) {
                    text.push_str(&ids::cas_number(rng));
                }
            }
            Element::Date => {
                let signed = cx.declaration_date - Days::new(rng.gen_range(5..60));
                let _ = write!(
                    text,
                    "{:04}{:02}{:02}",
                    signed.year(),
                    signed.month(),
                    signed.day()
                );
            }
            Element::Use => text.push_str(pick(rng, catalog::USES)),
            Element::Material => text.push_str(pick(rng, catalog::materials(line.chapter))),
            Element::Spec => {
                let _ = write!(
                    text,
                    "{}*{}mm",
                    rng.gen_range(10..2000),
                    rng.gen_range(10..2000)
                );
            }
            Element::YesNo => text.push_str(if rng.gen_bool(0.5) { "是" } else { "否" }),
            Element::Packing => text.push_str(pick(rng, catalog::PACKINGS)),
            Element::Kind => text.push_str(pick(rng, catalog::KINDS)),
            Element::Function => text.push_str(pick(rng, catalog::FUNCTIONS)),
            Element::Process => text.push_str(pick(rng, catalog::processes(line.chapter))),
            Element::Displacement => {
                let _ = write!(
                    text,
                    "{}cc",
                    [998, 1498, 1598, 1998, 2488, 2995][rng.gen_range(0..6)]
                );
            }
            Element::Seats => {
                let _ = write!(text, "{}座", [2, 4, 5, 5, 5, 7][rng.gen_range(0..6)]);
            }
            Element::Demurrage => text.push_str("无滞期费"),
            Element::Generic => text.push_str(pick(rng, catalog::GENERIC_VALUES)),
        }
    }
    text
}

fn party(enterprise: &Enterprise) -> Party {
    Party {
        customs_code: Some(enterprise.customs_code.clone()),
        uscc: Some(enterprise.uscc.clone()),
        ciq_code: None,
        name: Some(enterprise.name.clone()),
    }
}

/// Freight by one of the three marks: total amount (most common), rate in percent of the
/// goods value, or amount per tonne.
fn freight<R: Rng>(value_usd: f64, currency: &str, per_usd: f64, rng: &mut R) -> Charge {
    let roll: f64 = rng.gen();
    if roll < 0.7 {
        Charge {
            mark: Some("3".to_owned()),
            rate: Some(cents(value_usd * rng.gen_range(0.02..0.08) * per_usd)),
            currency: Some(currency.to_owned()),
        }
    } else if roll < 0.9 {
        Charge {
            mark: Some("1".to_owned()),
            rate: Some(cents(rng.gen_range(1.5..6.0))),
            currency: None,
        }
    } else {
        Charge {
            mark: Some("2".to_owned()),
            rate: Some(cents(rng.gen_range(15.0..90.0) * per_usd)),
            currency: Some(currency.to_owned()),
        }
    }
}

/// Insurance as a rate in percent (typically 0.1 to 0.5) or a total amount.
fn insurance<R: Rng>(value_usd: f64, currency: &str, per_usd: f64, rng: &mut R) -> Charge {
    if rng.gen_bool(0.6) {
        Charge {
            mark: Some("1".to_owned()),
            rate: Some(cents(rng.gen_range(0.1..0.5))),
            currency: None,
        }
    } else {
        Charge {
            mark: Some("3".to_owned()),
            rate: Some(cents((value_usd * 0.003 * per_usd).max(1.0))),
            currency: Some(currency.to_owned()),
        }
    }
}

/// Bill of lading (or waybill, or manifest) number, means of transport and voyage, by mode.
fn transport_documents<R: Rng>(
    mode: &str,
    customs: &str,
    rng: &mut R,
) -> (String, String, Option<String>) {
    match mode {
        SEA => {
            let bill = format!(
                "{}{:010}",
                pick(rng, catalog::CARRIERS),
                rng.gen_range(0..10_000_000_000u64)
            );
            let voyage = format!(
                "{:03}{}",
                rng.gen_range(1..400),
                ["E", "W", "N", "S"][rng.gen_range(0..4)]
            );
            (bill, pick(rng, catalog::VESSELS).to_owned(), Some(voyage))
        }
        AIR => {
            let (prefix, airline) = catalog::AIRLINES[rng.gen_range(0..catalog::AIRLINES.len())];
            let bill = ids::air_waybill(prefix, rng.gen_range(0..10_000_000));
            (
                bill,
                format!("{airline}{}", rng.gen_range(100..10_000)),
                None,
            )
        }
        ROAD => {
            // Cross-border lorries carry a Guangdong 粤Z plate ending in 港 or 澳.
            let mut plate = String::from("粤Z");
            for _ in 0..4 {
                plate.push(char::from(
                    catalog::PLATE_LETTERS[rng.gen_range(0..catalog::PLATE_LETTERS.len())],
                ));
            }
            plate.push(if rng.gen_bool(0.9) { '港' } else { '澳' });
            (
                format!("{customs}{:010}", rng.gen_range(0..10_000_000_000u64)),
                plate,
                None,
            )
        }
        _ => (
            format!("CR{:010}", rng.gen_range(0..10_000_000_000u64)),
            format!("X{}", rng.gen_range(8000..9999)),
            None,
        ),
    }
}

fn contract_no<R: Rng>(trader: &Enterprise, date: NaiveDate, rng: &mut R) -> String {
    let date = date - Days::new(rng.gen_range(3..90));
    if rng.gen_bool(0.5) {
        format!(
            "{}{:02}{:02}{:03}",
            trader.abbreviation,
            date.year() % 100,
            date.month(),
            rng.gen_range(1..1000)
        )
    } else {
        format!(
            "{}-{:04}{:02}{:02}-{:02}",
            trader.abbreviation,
            date.year(),
            date.month(),
            date.day(),
            rng.gen_range(1..100)
        )
    }
}

fn overseas_name<R: Rng>(country: &str, rng: &mut R) -> String {
    format!(
        "{} {} {}",
        pick(rng, catalog::OVERSEAS_FIRST),
        pick(rng, catalog::OVERSEAS_SECOND),
        catalog::overseas_suffix(country)
    )
}

/// The enterprise's idempotency key: low 24 bits of the seed in hex, then the index. Unique
/// per index within a seed, and runs with different seeds rarely share keys.
fn client_seq_no(seed: u64, index: u64) -> String {
    format!("{:06X}{index:012}", seed & 0xFF_FFFF)
}

/// Rounds an amount to hundredths.
fn cents(amount: f64) -> Decimal {
    Decimal::new((amount * 100.0).round().max(1.0) as i64, 2)
}

/// A quantity in steps of `10^-decimals`, at least one step.
fn scaled(quantity: f64, decimals: u32) -> i64 {
    (quantity * pow10(decimals)).round().max(1.0) as i64
}

fn pow10(decimals: u32) -> f64 {
    10f64.powi(decimals as i32)
}
