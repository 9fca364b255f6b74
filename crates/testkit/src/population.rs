//! The synthetic enterprises that declare: traders with skewed activity, and the customs
//! brokers most of them hire.

use std::collections::HashSet;

use jinguan_types::Uscc;
use rand::Rng;
use rand_distr::StandardNormal;

use crate::catalog::{self, Division, CLUSTERS, DIVISIONS};
use crate::goods::Goods;
use crate::ids::{organisation_code, USCC_ALPHABET};
use crate::weighted::Weighted;
use crate::BuildError;

/// What kind of trade an enterprise mostly does, which decides its trade modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// General trade (一般贸易).
    General = 0,
    /// Processing trade under a manual (加工贸易).
    Processing = 1,
    /// Cross-border e-commerce.
    ECommerce = 2,
    /// Market procurement exports (市场采购).
    Market = 3,
}

/// A declarant employed by an enterprise: name and operator card number.
#[derive(Debug, Clone)]
pub(crate) struct Staff {
    pub name: String,
    pub card: String,
}

/// A synthetic enterprise registered with customs.
#[derive(Debug, Clone)]
pub struct Enterprise {
    /// Registered Chinese name, e.g. `深圳市华科电子有限公司`.
    pub name: String,
    /// Unified social credit code; passes [`Uscc::parse`].
    pub uscc: String,
    /// 10-character customs registration code; its first five characters are the domestic
    /// district code (four region digits and an economic-zone digit).
    pub customs_code: String,
    /// Six-digit administrative division of registration.
    pub division: &'static str,
    /// Whether this is a customs broker (报关企业) that declares for others.
    pub broker: bool,
    /// Index into the clusters of customs offices.
    pub(crate) cluster: usize,
    pub(crate) profile: Profile,
    /// Indexes of the chapters it mostly trades, into the goods' chapter list.
    pub(crate) chapters: Vec<usize>,
    /// Multiplier of its consignment values.
    pub(crate) scale: f64,
    /// The broker that usually declares for it; `None` when it declares itself.
    pub(crate) usual_broker: Option<usize>,
    /// Processing-trade manual number (备案号).
    pub(crate) filing_no: Option<String>,
    /// Letters it starts its contract numbers with.
    pub(crate) abbreviation: String,
    /// Its declarants.
    pub(crate) staff: Vec<Staff>,
}

impl Enterprise {
    /// The five-digit domestic district (境内目的地/货源地) code.
    pub fn district(&self) -> &str {
        &self.customs_code[..5]
    }
}

/// All enterprises with the tables to pick them.
#[derive(Debug, Clone)]
pub(crate) struct Population {
    pub enterprises: Vec<Enterprise>,
    /// Traders (not brokers), weighted by a Zipf law over their rank.
    pub traders: Weighted<usize>,
    /// Brokers by cluster, Zipf-weighted; `None` when a cluster has none.
    pub brokers_by_cluster: Vec<Option<Weighted<usize>>>,
    /// All brokers, for clusters without their own.
    pub any_broker: Option<Weighted<usize>>,
}

/// Activity follows a Zipf-Mandelbrot law, weight `1 / (rank + ZIPF_OFFSET)^ZIPF_EXPONENT`:
/// with 2000 enterprises the busiest files about 3% of the declarations, the top 1% about a
/// quarter and the top fifth nearly three quarters, as in real trade where a few large
/// traders dominate. The offset keeps the very top from swallowing everything.
const ZIPF_EXPONENT: f64 = 1.0;
/// See [`ZIPF_EXPONENT`].
const ZIPF_OFFSET: f64 = 6.0;

impl Population {
    /// Generates `count` enterprises (at least one).
    pub fn new<R: Rng>(count: usize, goods: &Goods, rng: &mut R) -> Result<Self, BuildError> {
        let count = count.max(1);
        let brokers = if count >= 2 { (count / 12).max(1) } else { 0 };
        let mut enterprises = enterprises(count, brokers, goods, rng)?;
        let mut brokers_by_cluster = Vec::with_capacity(CLUSTERS.len());
        for cluster in 0..CLUSTERS.len() {
            let members: Vec<usize> = (0..brokers)
                .filter(|i| enterprises[*i].cluster == cluster)
                .collect();
            brokers_by_cluster.push(if members.is_empty() {
                None
            } else {
                Some(by_rank(members)?)
            });
        }
        let any_broker = if brokers == 0 {
            None
        } else {
            Some(by_rank((0..brokers).collect())?)
        };
        for enterprise in enterprises.iter_mut().skip(brokers) {
            // A quarter of traders have their own declarants; the rest hire a local broker.
            if rng.gen_bool(0.25) {
                continue;
            }
            let pool = brokers_by_cluster[enterprise.cluster]
                .as_ref()
                .or(any_broker.as_ref());
            enterprise.usual_broker = pool.map(|p| *p.sample(rng));
        }
        let traders = by_rank((brokers..count).collect())?;
        Ok(Self {
            enterprises,
            traders,
            brokers_by_cluster,
            any_broker,
        })
    }

    /// Another broker of the enterprise's cluster, for the declarations a trader gives to
    /// someone else.
    pub fn some_broker<R: Rng>(&self, cluster: usize, rng: &mut R) -> Option<usize> {
        let pool = self.brokers_by_cluster[cluster]
            .as_ref()
            .or(self.any_broker.as_ref())?;
        Some(*pool.sample(rng))
    }
}

/// `count` enterprises, the first `brokers` of them customs brokers, without usual brokers
/// yet.
fn enterprises<R: Rng>(
    count: usize,
    brokers: usize,
    goods: &Goods,
    rng: &mut R,
) -> Result<Vec<Enterprise>, BuildError> {
    let divisions =
        Weighted::from_pairs(DIVISIONS.iter().map(|d| (d, d.weight))).map_err(BuildError::new)?;
    let profiles = Weighted::from_pairs([
        (Profile::General, 75.0),
        (Profile::Processing, 17.0),
        (Profile::ECommerce, 5.0),
        (Profile::Market, 3.0),
    ])
    .map_err(BuildError::new)?;
    let mut taken = Taken::default();
    let mut enterprises = Vec::with_capacity(count);
    for i in 0..count {
        let broker = i < brokers;
        let division: &Division = divisions.sample(rng);
        let profile = if broker {
            Profile::General
        } else {
            *profiles.sample(rng)
        };
        // The busiest traders also ship the largest consignments.
        let rank_boost = if i.checked_sub(brokers).is_some_and(|rank| rank < 20) {
            2.0
        } else {
            1.0
        };
        let kind = Kind {
            division,
            profile,
            broker,
            rank_boost,
        };
        enterprises.push(taken.enterprise(kind, goods, rng)?);
    }
    Ok(enterprises)
}

/// Weights `items` by a Zipf law over their position: the first is the busiest.
fn by_rank(items: Vec<usize>) -> Result<Weighted<usize>, BuildError> {
    let weights = (0..items.len()).map(zipf).collect();
    Weighted::new(items, weights).map_err(BuildError::new)
}

/// The weight of `rank` (0 for the busiest); see [`ZIPF_EXPONENT`].
fn zipf(rank: usize) -> f64 {
    1.0 / (rank as f64 + ZIPF_OFFSET).powf(ZIPF_EXPONENT)
}

/// What is decided about an enterprise before its details are drawn.
struct Kind<'a> {
    division: &'a Division,
    profile: Profile,
    broker: bool,
    /// Multiplier of its consignment values on top of the drawn one.
    rank_boost: f64,
}

/// Identifiers already handed out, so that every enterprise's are unique.
#[derive(Default)]
struct Taken {
    names: HashSet<String>,
    usccs: HashSet<String>,
    customs_codes: HashSet<String>,
}

impl Taken {
    /// An enterprise of `kind` with a name and identifiers not handed out before.
    fn enterprise<R: Rng>(
        &mut self,
        kind: Kind<'_>,
        goods: &Goods,
        rng: &mut R,
    ) -> Result<Enterprise, BuildError> {
        let Kind {
            division,
            profile,
            broker,
            rank_boost,
        } = kind;
        let chapters: Vec<usize> = if broker {
            Vec::new()
        } else {
            (0..rng.gen_range(1..=3))
                .map(|_| goods.chapters.sample_index(rng))
                .collect()
        };
        let primary = chapters
            .first()
            .map_or(84, |c| goods.chapters.items()[*c].chapter);
        let name = self.name(rng, division, broker, primary);
        let uscc = self.uscc(rng, division)?;
        let customs_code = self.customs_code(rng, division, broker, profile);
        let office = &CLUSTERS[division.cluster][0];
        let filing_no = (profile == Profile::Processing)
            .then(|| format!("C{}{:07}", office.declaring, rng.gen_range(0..10_000_000)));
        let staff_count = if broker {
            rng.gen_range(3..=6)
        } else {
            rng.gen_range(1..=2)
        };
        let staff = (0..staff_count).map(|_| staff(rng)).collect();
        let z: f64 = rng.sample(StandardNormal);
        Ok(Enterprise {
            name,
            uscc,
            customs_code,
            division: division.code,
            broker,
            cluster: division.cluster,
            profile,
            chapters,
            scale: (0.7 * z).exp() * rank_boost,
            usual_broker: None,
            filing_no,
            abbreviation: abbreviation(rng),
            staff,
        })
    }

    fn name<R: Rng>(
        &mut self,
        rng: &mut R,
        division: &Division,
        broker: bool,
        chapter: u8,
    ) -> String {
        let mut name = String::new();
        // Retry on a clash; with very large populations accept a duplicate rather than loop,
        // as real registers also hold near-identical names in different districts.
        for _ in 0..20 {
            name.clear();
            name.push_str(division.city);
            name.push_str(pick(rng, catalog::CORE_FIRST));
            name.push_str(pick(rng, catalog::CORE_SECOND));
            if broker {
                name.push_str(pick(rng, catalog::BROKER_WORDS));
            } else {
                let words = if rng.gen_bool(0.7) {
                    catalog::industry_words(chapter)
                } else {
                    catalog::GENERIC_INDUSTRY
                };
                name.push_str(pick(rng, words));
                let suffix = if rng.gen_bool(0.85) {
                    "有限公司"
                } else {
                    "股份有限公司"
                };
                name.push_str(suffix);
            }
            if !self.names.contains(&name) {
                break;
            }
        }
        self.names.insert(name.clone());
        name
    }

    fn uscc<R: Rng>(&mut self, rng: &mut R, division: &Division) -> Result<String, BuildError> {
        loop {
            let mut first17 = String::with_capacity(18);
            // 9 = registered by the market regulator, 1 = company.
            first17.push_str("91");
            first17.push_str(division.code);
            if rng.gen_bool(0.6) {
                // Codes issued since 2015 begin with MA.
                first17.push_str("MA");
                for _ in 0..7 {
                    first17.push(char::from(
                        USCC_ALPHABET[rng.gen_range(0..USCC_ALPHABET.len())],
                    ));
                }
            } else {
                first17.push_str(&organisation_code(rng));
            }
            let uscc = Uscc::with_check(&first17).map_err(|e| BuildError::new(e.to_string()))?;
            let uscc = uscc.as_str().to_owned();
            if self.usccs.insert(uscc.clone()) {
                return Ok(uscc);
            }
        }
    }

    fn customs_code<R: Rng>(
        &mut self,
        rng: &mut R,
        division: &Division,
        broker: bool,
        profile: Profile,
    ) -> String {
        // Economic zone digit: 1 special economic zone (Shenzhen, Xiamen only), 2 economic
        // and technological development zone, 3 high-tech zone, 4 bonded zone, 9 other.
        let special_zone = matches!(division.code, "440300" | "350200");
        let zone = loop {
            let zone = [('9', 50), ('1', 30), ('2', 10), ('3', 6), ('4', 4)];
            let total: u32 = zone.iter().map(|z| z.1).sum();
            let mut roll = rng.gen_range(0..total);
            let mut chosen = '9';
            for (digit, weight) in zone {
                if roll < weight {
                    chosen = digit;
                    break;
                }
                roll -= weight;
            }
            if chosen != '1' || special_zone {
                break chosen;
            }
        };
        // Nature digit: 8 customs broker; for traders 1 state-owned, 3 joint venture,
        // 4 wholly foreign-owned, 6 private, 9 other.
        let nature = if broker {
            '8'
        } else if profile == Profile::Processing {
            ['4', '4', '3', '6'][rng.gen_range(0..4)]
        } else {
            ['6', '6', '6', '6', '4', '3', '1', '9', '2'][rng.gen_range(0..9)]
        };
        loop {
            let mut code = String::with_capacity(10);
            code.push_str(&division.code[..4]);
            code.push(zone);
            code.push(nature);
            for _ in 0..4 {
                if rng.gen_bool(0.85) {
                    code.push(char::from(b'0' + rng.gen_range(0..10)));
                } else {
                    code.push(char::from(b"ABCDEFGHJKLMNPQRTUWXY"[rng.gen_range(0..21)]));
                }
            }
            if self.customs_codes.insert(code.clone()) {
                return code;
            }
        }
    }
}

fn staff<R: Rng>(rng: &mut R) -> Staff {
    let name = format!(
        "{}{}",
        pick(rng, catalog::SURNAMES),
        pick(rng, catalog::GIVEN_NAMES)
    );
    let card = format!("89{:011}", rng.gen_range(0..100_000_000_000u64));
    Staff { name, card }
}

fn abbreviation<R: Rng>(rng: &mut R) -> String {
    (0..rng.gen_range(2..=4))
        .map(|_| char::from(b'A' + rng.gen_range(0..26)))
        .collect()
}

/// A uniformly chosen element.
pub(crate) fn pick<'a, R: Rng>(rng: &mut R, items: &[&'a str]) -> &'a str {
    items[rng.gen_range(0..items.len())]
}
