//! Building one declaration from its own random stream.

use std::fmt::Write;

use chrono::{Datelike, Days, NaiveDate};
use jinguan_types::declaration::{
    AttachedDocument, Charge, Container, Declaration, FreeText, GoodsItem, Head, OverseasParty,
    Party, SignatureBlock,
};
use jinguan_types::IeFlag;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::catalog::{self, AIR, RAIL, ROAD, SEA};
use crate::goods::{self, Element, GoodsLine};
use crate::ids::{self, splitmix64};
use crate::population::{pick, Enterprise, Staff};
use crate::{Generator, OfficeChoice, Partner, TradeMode};

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

/// The enterprises and the person behind a declaration.
struct Parties<'a> {
    /// The consignee of an import or the consignor of an export.
    trader: &'a Enterprise,
    /// The enterprise that consumes or produces the goods.
    owner: &'a Enterprise,
    /// The enterprise that declares: the trader's broker, or the trader itself.
    agent: &'a Enterprise,
    /// The agent's employee who types and signs the declaration.
    declarant: &'a Staff,
}

/// Which way the goods cross, where, under which trade mode and with which country.
struct Route<'a> {
    import: bool,
    choice: OfficeChoice,
    mode: TradeMode,
    partner: &'a Partner,
}

/// The day of declaration and the day the goods are imported or exported.
struct Dates {
    declaration: NaiveDate,
    ie: NaiveDate,
}

/// The goods items of a declaration with their totals.
struct Items {
    list: Vec<GoodsItem>,
    net_cents: i64,
    value_usd: f64,
    /// Whether every item is of a chapter that travels in bulk.
    all_bulk: bool,
    /// The licence codes the items' lines require in this direction, each once.
    licences: Vec<char>,
}

/// How a consignment is packed: gross weight in hundredths of a kilogram and packages.
struct Packing {
    gross_cents: i64,
    package_type: &'static str,
    packages: u32,
}

/// The transaction terms (成交方式) and the charges they leave to the declaration.
struct Charges {
    terms: &'static str,
    freight: Charge,
    insurance: Charge,
    other: Charge,
}

/// The foreign side of the trade: ports, trading-area country and the overseas party.
struct Abroad {
    departure_port: Option<String>,
    destination_port: Option<String>,
    trade_area_country: &'static str,
    overseas_consignor: OverseasParty,
    overseas_consignee: OverseasParty,
}

/// Bill of lading (or waybill, or manifest) number, means of transport and voyage.
struct Transport {
    bill_of_lading: String,
    means: String,
    voyage: Option<String>,
}

/// Everything the head is made of, drawn beforehand so that assembling it draws nothing.
struct HeadParts<'a> {
    parties: &'a Parties<'a>,
    route: &'a Route<'a>,
    dates: &'a Dates,
    net_cents: i64,
    packing: Packing,
    charges: Charges,
    abroad: Abroad,
    bill_of_lading: String,
    transport_means: String,
    contract_no: String,
}

/// A goods item's legal quantities and its net weight in hundredths of a kilogram.
struct LegalQuantities {
    legal_1: Decimal,
    legal_2: Option<Decimal>,
    net_cents: i64,
}

impl Generator {
    /// Declaration number `index`: the same for a given seed whatever else is generated, so
    /// ranges can be generated independently and in parallel.
    pub fn declaration(&self, index: u64) -> Declaration {
        let mut rng = ChaCha8Rng::seed_from_u64(self.options.seed ^ splitmix64(index));
        let rng = &mut rng;
        // Each step draws from the one stream, so the order of the steps is part of the
        // output: reordering them changes every declaration of every seed.
        let import = rng.gen_bool(crate::IMPORT_SHARE);
        let parties = self.parties(rng);
        let mut route = self.route(import, parties.trader, rng);
        let dates = self.dates(import, rng);
        let (currency, per_usd) = self.currency(route.partner, dates.declaration, rng);
        let terms = transaction_terms(import, rng);
        let context = Context {
            import,
            partner: route.partner,
            currency,
            per_usd,
            owner: parties.owner,
            processing: route.mode.processing(),
            duty_mode: route.mode.duty_mode,
            declaration_date: dates.declaration,
        };
        let items = self.items(parties.trader, &context, rng);
        self.keep_heavy_off_planes(&mut route, parties.trader.cluster, items.net_cents, rng);
        let office = route.choice.office;
        let bulk = items.all_bulk && office.mode == SEA && items.net_cents > BULK_KG * 100;
        let packing = if bulk {
            bulk_packing(items.net_cents, rng)
        } else {
            self.packing(items.net_cents, rng)
        };
        let containers = if office.mode == SEA && !bulk {
            self.containers(items.list.len(), packing.gross_cents, rng)
        } else {
            Vec::new()
        };
        let charges = charges(&context, terms, items.value_usd, rng);
        let abroad = self.abroad(&route, rng);
        let transport = transport_documents(office.mode, office.declaring, rng);
        let sign_date = sign_time(dates.declaration, rng);
        let contract_no = contract_no(parties.trader, dates.declaration, rng);
        let documents = licence_documents(&items.licences, dates.declaration, rng);
        let head = HeadParts {
            parties: &parties,
            route: &route,
            dates: &dates,
            net_cents: items.net_cents,
            packing,
            charges,
            abroad,
            bill_of_lading: transport.bill_of_lading,
            transport_means: transport.means,
            contract_no,
        }
        .into_head();
        let client_seq_no = client_seq_no(self.options.seed, index);
        Declaration {
            head,
            items: items.list,
            containers,
            free_text: FreeText {
                voyage_no: transport.voyage,
                ..FreeText::default()
            },
            signature: Some(signature(&parties, client_seq_no, sign_date)),
            documents,
            ..Declaration::default()
        }
    }

    /// The trader, the owner of the goods, the agent that declares and its declarant.
    fn parties<R: Rng>(&self, rng: &mut R) -> Parties<'_> {
        let enterprises = &self.population.enterprises;
        let trader_index = *self.population.traders.sample(rng);
        let trader = &enterprises[trader_index];
        let owner = self.owner(trader, rng);
        let agent = &enterprises[self.agent_index(trader_index, rng)];
        let declarant = &agent.staff[rng.gen_range(0..agent.staff.len())];
        Parties {
            trader,
            owner,
            agent,
            declarant,
        }
    }

    /// Most goods are consumed or produced by the consignee itself; otherwise by another
    /// enterprise of the same region.
    fn owner<'a, R: Rng>(&'a self, trader: &'a Enterprise, rng: &mut R) -> &'a Enterprise {
        if !rng.gen_bool(0.15) {
            return trader;
        }
        for _ in 0..4 {
            let other = &self.population.enterprises[*self.population.traders.sample(rng)];
            if other.cluster == trader.cluster {
                return other;
            }
        }
        trader
    }

    /// The enterprise that declares: mostly the trader's usual broker, now and then another
    /// broker of its region, and the trader itself when it has no broker.
    fn agent_index<R: Rng>(&self, trader_index: usize, rng: &mut R) -> usize {
        let trader = &self.population.enterprises[trader_index];
        match trader.usual_broker {
            Some(usual) if rng.gen_bool(0.9) => usual,
            Some(_) => self
                .population
                .some_broker(trader.cluster, rng)
                .unwrap_or(trader_index),
            None => trader_index,
        }
    }

    /// The office of the trader's region, the trade mode of its profile and a partner that
    /// trades by the office's mode of transport.
    fn route<R: Rng>(&self, import: bool, trader: &Enterprise, rng: &mut R) -> Route<'_> {
        let choice = *self.clusters[trader.cluster].sample(rng);
        let mode = *self.trade_modes[trader.profile as usize][usize::from(!import)].sample(rng);
        let partner_index = match choice.office.mode {
            ROAD => *self.road_partners.sample(rng),
            RAIL => *self.rail_partners.sample(rng),
            _ if import => *self.import_partners.sample(rng),
            _ => *self.export_partners.sample(rng),
        };
        Route {
            import,
            choice,
            mode,
            partner: &self.partners[partner_index],
        }
    }

    /// A declaration day, and the import or export day a few days from it.
    fn dates<R: Rng>(&self, import: bool, rng: &mut R) -> Dates {
        let declaration = *self.days.sample(rng);
        let lag = Days::new([0, 0, 0, 0, 0, 1, 1, 1, 2, 3][rng.gen_range(0..10)]);
        // Imports are declared after arrival, exports before departure; both stay in 2026.
        let ie = if import {
            declaration.checked_sub_days(lag)
        } else {
            declaration.checked_add_days(lag)
        };
        Dates {
            declaration,
            ie: ie.filter(|d| d.year() == 2026).unwrap_or(declaration),
        }
    }

    /// Mostly dollars; some partners invoice in their own currency, some trade is in yuan.
    /// A partner's own currency is used only in months that customs publishes a rate for it
    /// (in the reference data), else the trade is in dollars.
    fn currency<R: Rng>(
        &self,
        partner: &Partner,
        date: NaiveDate,
        rng: &mut R,
    ) -> (&'static str, f64) {
        let roll: f64 = rng.gen();
        match partner.currency_on(date) {
            Some(local) if roll < 0.12 => local,
            _ if (0.12..0.17).contains(&roll) => self.cny,
            _ => self.usd,
        }
    }

    /// The goods items, their total net weight in hundredths of a kilogram and their total
    /// value in dollars.
    fn items<R: Rng>(&self, trader: &Enterprise, cx: &Context<'_>, rng: &mut R) -> Items {
        let count = *self.item_counts.sample(rng);
        let mut items = Items {
            list: Vec::with_capacity(count as usize),
            net_cents: 0,
            value_usd: 0.0,
            all_bulk: true,
            licences: Vec::new(),
        };
        for seq in 1..=count {
            let (line, own) = self.goods_line(trader, cx.import, rng);
            items.all_bulk &= BULK_CHAPTERS.contains(&line.chapter);
            let licences = &line.licences[goods::direction(cx.import)];
            for code in licences.iter() {
                if !items.licences.contains(code) {
                    items.licences.push(*code);
                }
            }
            let (item, item_net_cents, item_usd) = self.item(seq, line, own, cx, trader, rng);
            items.net_cents += item_net_cents;
            items.value_usd += item_usd;
            items.list.push(item);
        }
        items
    }

    /// A tariff line for the next item, and whether it is in the trader's line of business.
    /// Only lines that may cross in this direction are drawn.
    fn goods_line<R: Rng>(
        &self,
        trader: &Enterprise,
        import: bool,
        rng: &mut R,
    ) -> (&GoodsLine, bool) {
        match trader.chapters.len() {
            // Traders mostly deal in their own lines of business.
            n if n > 0 && rng.gen_bool(0.75) => {
                let chapter = &self.goods.chapters.items()[trader.chapters[rng.gen_range(0..n)]];
                match self.goods.line_in(chapter, import, rng) {
                    Some(line) => (line, true),
                    // Nothing of its chapter may cross this way: other goods.
                    None => (self.goods.any_line(import, rng), false),
                }
            }
            _ => (self.goods.any_line(import, rng), false),
        }
    }

    /// Heavy consignments do not fly: move them to the cluster's sea port, if it has one.
    /// Sea and air partners come from the same list, so the partner stays valid.
    fn keep_heavy_off_planes<R: Rng>(
        &self,
        route: &mut Route<'_>,
        cluster: usize,
        net_cents: i64,
        rng: &mut R,
    ) {
        if route.choice.office.mode != AIR || net_cents <= MAX_AIR_KG * 100 {
            return;
        }
        if let Some(sea) = &self.sea_offices[cluster] {
            route.choice = *sea.sample(rng);
        }
    }

    /// Packages for goods that are not shipped in bulk, with the packing's weight added.
    fn packing<R: Rng>(&self, net_cents: i64, rng: &mut R) -> Packing {
        let packing = net_cents as f64 * rng.gen_range(0.03..0.18) + rng.gen_range(50.0..2000.0);
        let gross_cents = net_cents + packing as i64 + 1;
        let gross_kg = gross_cents as f64 / 100.0;
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
        Packing {
            gross_cents,
            package_type,
            packages,
        }
    }

    /// The ports, the trading-area country and the overseas consignor or consignee.
    fn abroad<R: Rng>(&self, route: &Route<'_>, rng: &mut R) -> Abroad {
        let (departure_port, destination_port) = self.ports(route, rng);
        let partner = route.partner;
        let trade_area_country = if rng.gen_bool(0.9) || partner.code == "HKG" {
            partner.code
        } else {
            ["HKG", "SGP"][rng.gen_range(0..2)]
        };
        let overseas = OverseasParty {
            name_en: Some(overseas_name(partner.code, rng)),
            ..OverseasParty::default()
        };
        let (overseas_consignor, overseas_consignee) = if route.import {
            (overseas, OverseasParty::default())
        } else {
            (OverseasParty::default(), overseas)
        };
        Abroad {
            departure_port,
            destination_port,
            trade_area_country,
            overseas_consignor,
            overseas_consignee,
        }
    }

    /// Ports of departure (启运港) and of stop or destination (经停港/指运港). An import's
    /// last stop abroad is its port of departure or, for some sea consignments, a
    /// transhipment port; an export leaves from the office's Chinese port for a port of the
    /// partner.
    fn ports<R: Rng>(&self, route: &Route<'_>, rng: &mut R) -> (Option<String>, Option<String>) {
        let foreign_port = route.partner.ports.as_ref().map(|p| p.sample(rng).clone());
        if !route.import {
            return (route.choice.chn_port.map(str::to_owned), foreign_port);
        }
        let call = match (&foreign_port, route.choice.office.mode) {
            (Some(_), SEA) if rng.gen_bool(0.2) && !self.transit_ports.is_empty() => {
                Some(pick(rng, &self.transit_ports).to_owned())
            }
            _ => foreign_port.clone(),
        };
        (foreign_port, call)
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
        let (usd, price) = item_value(line, own, trader.scale, rng);
        let quantities = legal_quantities(line, usd / price, rng);
        let (declared_qty, declared_unit) = declared_quantity(line, &quantities, rng);
        let total = cents(usd * cx.per_usd);
        let unit_price = (total / declared_qty)
            .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
        let (origin, destination) = self.countries(cx, rng);
        let item = GoodsItem {
            seq: Some(seq),
            contract_item: cx.processing.then(|| rng.gen_range(1..=300u32).to_string()),
            hs_code: Some(line.hs.clone()),
            ciq_code: Some("999".to_owned()),
            name: Some(line.name.clone()),
            elements: Some(elements(line, cx, rng)),
            declared_qty: Some(declared_qty),
            declared_unit: Some(declared_unit),
            legal_qty_1: Some(quantities.legal_1),
            legal_unit_1: Some(line.unit1.clone()),
            legal_qty_2: quantities.legal_2,
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
        (item, quantities.net_cents, usd)
    }

    /// Countries of origin and destination: China is an import's destination and an export's
    /// origin.
    fn countries<R: Rng>(&self, cx: &Context<'_>, rng: &mut R) -> (&'static str, &'static str) {
        if !cx.import {
            let destination = if rng.gen_bool(0.95) {
                cx.partner.code
            } else {
                self.partners[*self.export_partners.sample(rng)].code
            };
            return ("CHN", destination);
        }
        // Goods bought through Hong Kong or Macao were mostly made elsewhere.
        let entrepot = matches!(cx.partner.code, "HKG" | "MAC");
        let origin = if entrepot || rng.gen_bool(0.25) {
            self.partners[*self.import_partners.sample(rng)].code
        } else {
            cx.partner.code
        };
        (origin, "CHN")
    }

    /// Containers for a sea consignment, with ISO 6346 numbers and their tare weights.
    fn containers<R: Rng>(&self, items: usize, gross_cents: i64, rng: &mut R) -> Vec<Container> {
        let gross_kg = gross_cents as f64 / 100.0;
        let forty = gross_kg > 8000.0 || rng.gen_bool(0.3);
        let (size, tare) = if forty {
            (self.container_sizes.1, 3750)
        } else {
            (self.container_sizes.0, 2200)
        };
        let count = (gross_kg / 22_000.0).ceil().clamp(1.0, 8.0) as usize;
        let mut goods_items = String::with_capacity(items * 3);
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

impl HeadParts<'_> {
    /// The declaration head. Draws nothing: everything random was drawn into the parts.
    fn into_head(self) -> Head {
        let import = self.route.import;
        let office = self.route.choice.office;
        let (mode, partner) = (self.route.mode, self.route.partner);
        let (trader, agent, declarant) = (
            self.parties.trader,
            self.parties.agent,
            self.parties.declarant,
        );
        Head {
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
            ie_date: Some(self.dates.ie),
            declaration_date: Some(self.dates.declaration),
            consignee: party(trader),
            owner: party(self.parties.owner),
            agent: party(agent),
            input_unit: party(agent),
            filing_no: filing_no(mode, trader, office.declaring),
            contract_no: Some(self.contract_no),
            bill_of_lading: Some(self.bill_of_lading),
            transport_mode: Some(office.mode.to_owned()),
            transport_means: Some(self.transport_means),
            trade_mode: Some(mode.code.to_owned()),
            levy_nature: mode.levy_nature.map(str::to_owned),
            trade_country: Some(partner.code.to_owned()),
            trade_area_country: Some(self.abroad.trade_area_country.to_owned()),
            departure_port: self.abroad.departure_port,
            destination_port: self.abroad.destination_port,
            transaction_terms: Some(self.charges.terms.to_owned()),
            freight: self.charges.freight,
            insurance: self.charges.insurance,
            other_charges: self.charges.other,
            packages: Some(self.packing.packages),
            package_type: Some(self.packing.package_type.to_owned()),
            no_other_packages: Some("1".to_owned()),
            gross_weight_kg: Some(Decimal::new(self.packing.gross_cents, 2)),
            net_weight_kg: Some(Decimal::new(self.net_cents, 2)),
            marks: Some("N/M".to_owned()),
            overseas_consignor: self.abroad.overseas_consignor,
            overseas_consignee: self.abroad.overseas_consignee,
            promise_items: Some(if import { "000" } else { "999" }.to_owned()),
            typist_no: Some(declarant.card.clone()),
            inputer_name: Some(declarant.name.clone()),
            declarer_name: Some(declarant.name.clone()),
            ..Head::default()
        }
    }
}

/// The manual or account book a trade mode draws on (V0110): a processing trader's manual,
/// else, for bonded goods, the account book (账册) of a bonded warehouse at the declaring
/// customs, the same for a trader at an office whatever the declaration. Draws nothing.
fn filing_no(mode: TradeMode, trader: &Enterprise, customs: &str) -> Option<String> {
    if mode.processing() {
        if let Some(manual) = &trader.filing_no {
            return Some(manual.clone());
        }
    }
    if !mode.needs_filing() {
        return None;
    }
    let hash = trader
        .customs_code
        .bytes()
        .chain(customs.bytes())
        .fold(0x5EED_B00C, |hash, b| splitmix64(hash ^ u64::from(b)));
    Some(format!("L{customs}{:07}", hash % 10_000_000))
}

/// A licence document (随附单证) for each licence code, numbered as its issuer does: the
/// licences of the Ministry of Commerce `YY-XX-NNNNNN` (year, issuing bureau, serial), other
/// permits and certificates a year and a serial.
fn licence_documents<R: Rng>(
    codes: &[char],
    date: NaiveDate,
    rng: &mut R,
) -> Vec<AttachedDocument> {
    codes
        .iter()
        .map(|code| {
            let number = if matches!(code, '1' | '2' | '3' | '4' | '5' | '7' | 'G' | 'O' | 'i') {
                let bureau = [b'A' + rng.gen_range(0..26), b'A' + rng.gen_range(0..26)];
                format!(
                    "{:02}-{}{}-{:06}",
                    date.year() % 100,
                    char::from(bureau[0]),
                    char::from(bureau[1]),
                    rng.gen_range(1..1_000_000)
                )
            } else {
                format!(
                    "{}{:012}",
                    date.year(),
                    rng.gen_range(1..1_000_000_000_000u64)
                )
            };
            AttachedDocument {
                code: Some(code.to_string()),
                number: Some(number),
                ..AttachedDocument::default()
            }
        })
        .collect()
}

/// The declarant's signature on behalf of the agent.
fn signature(parties: &Parties<'_>, client_seq_no: String, sign_date: String) -> SignatureBlock {
    SignatureBlock {
        operation: Some("C".to_owned()),
        ic_card: Some(parties.declarant.card.clone()),
        company_code: Some(parties.agent.customs_code.clone()),
        operator_name: Some(parties.declarant.name.clone()),
        client_seq_no: Some(client_seq_no),
        sign_date: Some(sign_date),
        ..SignatureBlock::default()
    }
}

/// An item's value in dollars and its price per first legal unit, both drawn around the
/// line's and the trader's levels.
fn item_value<R: Rng>(line: &GoodsLine, own: bool, trader_scale: f64, rng: &mut R) -> (f64, f64) {
    let chapter_scale = if own {
        catalog::chapter_value_scale(line.chapter)
    } else {
        1.0
    };
    let median = MEDIAN_ITEM_USD * trader_scale * chapter_scale;
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
    (usd, price)
}

/// The legal quantities of `units` first legal units of `line`, and the net weight: the
/// first quantity itself when its unit is the kilogram, else drawn around the unit's
/// typical weight.
fn legal_quantities<R: Rng>(line: &GoodsLine, units: f64, rng: &mut R) -> LegalQuantities {
    let q1 = scaled(units, line.p1.decimals);
    let net = if line.unit1_kg {
        q1
    } else {
        let q1_value = q1 as f64 / pow10(line.p1.decimals);
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
    let legal_2 = q2
        .zip(line.p2)
        .map(|(q, p)| Decimal::new(q, if line.unit2_kg { 2 } else { p.decimals }));
    LegalQuantities {
        legal_1: Decimal::new(q1, line.p1.decimals),
        legal_2,
        net_cents: net,
    }
}

/// The quantity and unit declared: mostly the first legal ones, sometimes the second.
fn declared_quantity<R: Rng>(
    line: &GoodsLine,
    quantities: &LegalQuantities,
    rng: &mut R,
) -> (Decimal, String) {
    match (&quantities.legal_2, &line.unit2) {
        (Some(q), Some(unit)) if rng.gen_bool(0.15) => (*q, unit.clone()),
        _ => (quantities.legal_1, line.unit1.clone()),
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
        push_element(
            &mut text,
            *element,
            branded,
            line.chapter,
            cx.declaration_date,
            rng,
        );
    }
    text
}

/// Appends a value for one element by its kind; the goods' `chapter` decides materials,
/// processes and whether a CAS number applies.
fn push_element<R: Rng>(
    text: &mut String,
    element: Element,
    branded: bool,
    chapter: u8,
    declaration_date: NaiveDate,
    rng: &mut R,
) {
    match element {
        Element::Blank => {}
        Element::Brand if branded => text.push_str(pick(rng, catalog::BRANDS)),
        Element::Brand => text.push_str("无品牌"),
        Element::Model => push_model(text, rng),
        Element::Gtin => {
            if rng.gen_bool(0.15) {
                let _ = write!(text, "69{:011}", rng.gen_range(0..100_000_000_000u64));
            }
        }
        Element::Cas => {
            if matches!(chapter, 28 | 29 | 38) && rng.gen_bool(0.7) {
                text.push_str(&ids::cas_number(rng));
            }
        }
        Element::Date => {
            let signed = declaration_date - Days::new(rng.gen_range(5..60));
            let _ = write!(
                text,
                "{:04}{:02}{:02}",
                signed.year(),
                signed.month(),
                signed.day()
            );
        }
        Element::Use => text.push_str(pick(rng, catalog::USES)),
        Element::Material => text.push_str(pick(rng, catalog::materials(chapter))),
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
        Element::Process => text.push_str(pick(rng, catalog::processes(chapter))),
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

/// A model number: two capital letters, a dash and a number, e.g. `KX-4821`.
fn push_model<R: Rng>(text: &mut String, rng: &mut R) {
    let letters = [b'A' + rng.gen_range(0..26), b'A' + rng.gen_range(0..26)];
    let _ = write!(
        text,
        "{}{}-{}",
        char::from(letters[0]),
        char::from(letters[1]),
        rng.gen_range(100..10_000)
    );
}

fn party(enterprise: &Enterprise) -> Party {
    Party {
        customs_code: Some(enterprise.customs_code.clone()),
        uscc: Some(enterprise.uscc.clone()),
        ciq_code: None,
        name: Some(enterprise.name.clone()),
    }
}

/// Transaction terms (成交方式): 1 CIF, 2 C&F, 3 FOB. Imports are most often bought CIF,
/// exports sold FOB.
fn transaction_terms<R: Rng>(import: bool, rng: &mut R) -> &'static str {
    let roll: f64 = rng.gen();
    let (cif, cfr) = if import { (0.50, 0.65) } else { (0.25, 0.35) };
    if roll < cif {
        "1"
    } else if roll < cfr {
        "2"
    } else {
        "3"
    }
}

/// Freight and insurance where the terms call for them, and now and then other charges.
/// Customs values imports CIF and exports FOB, so an import declares the charges its price
/// leaves out and an export those its price includes.
fn charges<R: Rng>(cx: &Context<'_>, terms: &'static str, value_usd: f64, rng: &mut R) -> Charges {
    let (needs_freight, needs_insurance) = if cx.import {
        (terms == "3", terms != "1")
    } else {
        (terms != "3", terms == "1")
    };
    let freight = if needs_freight {
        freight(value_usd, cx.currency, cx.per_usd, rng)
    } else {
        Charge::default()
    };
    let insurance = if needs_insurance {
        insurance(value_usd, cx.currency, cx.per_usd, rng)
    } else {
        Charge::default()
    };
    let other = if rng.gen_bool(0.05) {
        Charge {
            mark: Some("3".to_owned()),
            rate: Some(cents(rng.gen_range(50.0..800.0) * cx.per_usd)),
            currency: Some(cx.currency.to_owned()),
        }
    } else {
        Charge::default()
    };
    Charges {
        terms,
        freight,
        insurance,
        other,
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

/// Bulk cargo goes unpacked (package type 00, 散装) as one lot, its gross weight barely
/// above the net.
fn bulk_packing<R: Rng>(net_cents: i64, rng: &mut R) -> Packing {
    let gross_cents = net_cents + (net_cents as f64 * rng.gen_range(0.0..0.005)) as i64 + 1;
    Packing {
        gross_cents,
        package_type: "00",
        packages: 1,
    }
}

/// Bill of lading (or waybill, or manifest) number, means of transport and voyage, by mode.
fn transport_documents<R: Rng>(mode: &str, customs: &str, rng: &mut R) -> Transport {
    match mode {
        SEA => {
            let bill_of_lading = format!(
                "{}{:010}",
                pick(rng, catalog::CARRIERS),
                rng.gen_range(0..10_000_000_000u64)
            );
            let voyage = format!(
                "{:03}{}",
                rng.gen_range(1..400),
                ["E", "W", "N", "S"][rng.gen_range(0..4)]
            );
            let means = pick(rng, catalog::VESSELS).to_owned();
            Transport {
                bill_of_lading,
                means,
                voyage: Some(voyage),
            }
        }
        AIR => {
            let (prefix, airline) = catalog::AIRLINES[rng.gen_range(0..catalog::AIRLINES.len())];
            let bill_of_lading = ids::air_waybill(prefix, rng.gen_range(0..10_000_000));
            let means = format!("{airline}{}", rng.gen_range(100..10_000));
            Transport {
                bill_of_lading,
                means,
                voyage: None,
            }
        }
        ROAD => {
            let plate = lorry_plate(rng);
            Transport {
                bill_of_lading: format!("{customs}{:010}", rng.gen_range(0..10_000_000_000u64)),
                means: plate,
                voyage: None,
            }
        }
        _ => {
            let bill_of_lading = format!("CR{:010}", rng.gen_range(0..10_000_000_000u64));
            let means = format!("X{}", rng.gen_range(8000..9999));
            Transport {
                bill_of_lading,
                means,
                voyage: None,
            }
        }
    }
}

/// Cross-border lorries carry a Guangdong 粤Z plate ending in 港 or 澳.
fn lorry_plate<R: Rng>(rng: &mut R) -> String {
    let mut plate = String::from("粤Z");
    for _ in 0..4 {
        plate.push(char::from(
            catalog::PLATE_LETTERS[rng.gen_range(0..catalog::PLATE_LETTERS.len())],
        ));
    }
    plate.push(if rng.gen_bool(0.9) { '港' } else { '澳' });
    plate
}

/// The signature time, `YYYYMMDDhhmmss`, between 08:00 and 21:00 of the declaration day.
fn sign_time<R: Rng>(date: NaiveDate, rng: &mut R) -> String {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        date.year(),
        date.month(),
        date.day(),
        rng.gen_range(8..21),
        rng.gen_range(0..60),
        rng.gen_range(0..60)
    )
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
