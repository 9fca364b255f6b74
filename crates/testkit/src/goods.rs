//! The tariff lines goods are drawn from, with everything a goods item needs precomputed.

use jinguan_refdata::{CodeTable, RefData, TariffLine};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::catalog::{self, UnitProfile};
use crate::weighted::Weighted;
use crate::BuildError;

/// What one declaration element (申报要素) after the first two asks for, and so how to fill
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Element {
    Brand,
    Model,
    Gtin,
    Cas,
    /// `其他` and anything else declarants leave blank.
    Blank,
    Date,
    Use,
    Material,
    Spec,
    YesNo,
    Packing,
    Kind,
    Function,
    Process,
    Displacement,
    Seats,
    Demurrage,
    Generic,
}

impl Element {
    /// Classifies an element by its published name.
    fn classify(name: &str) -> Self {
        let has = |part: &str| name.contains(part);
        if name == "其他" {
            Self::Blank
        } else if has("品牌") {
            Self::Brand
        } else if has("型号") || has("货号") || has("零部件编号") || has("款式") {
            Self::Model
        } else if has("GTIN") {
            Self::Gtin
        } else if has("CAS") {
            Self::Cas
        } else if has("日期") {
            Self::Date
        } else if name.starts_with("是否") {
            Self::YesNo
        } else if has("用途") {
            Self::Use
        } else if has("成分") || has("材质") || has("纤维") {
            Self::Material
        } else if has("规格")
            || has("尺寸")
            || has("厚度")
            || has("长度")
            || has("幅宽")
            || has("克重")
        {
            Self::Spec
        } else if has("包装") {
            Self::Packing
        } else if has("排气量") {
            Self::Displacement
        } else if has("座位数") {
            Self::Seats
        } else if has("滞期费") {
            Self::Demurrage
        } else if has("原理") || has("功能") || has("控制方式") {
            Self::Function
        } else if has("加工") || has("制作") || has("工艺") || has("方法") {
            Self::Process
        } else if has("种类") || has("类型") || has("类别") || has("等级") || has("品种")
        {
            Self::Kind
        } else {
            Self::Generic
        }
    }
}

/// A tariff line ready for generation.
#[derive(Debug, Clone)]
pub(crate) struct GoodsLine {
    /// 10-digit commodity code.
    pub hs: String,
    /// Tariff description, used as the goods name.
    pub name: String,
    /// HS chapter.
    pub chapter: u8,
    /// First legal unit code.
    pub unit1: String,
    /// Second legal unit code.
    pub unit2: Option<String>,
    /// Profile of the first legal unit.
    pub p1: UnitProfile,
    /// Profile of the second legal unit.
    pub p2: Option<UnitProfile>,
    /// Whether the first legal unit is the kilogram.
    pub unit1_kg: bool,
    /// Whether the second legal unit is the kilogram.
    pub unit2_kg: bool,
    /// This line's typical price per first legal unit, in US dollars.
    pub usd_per_unit1: f64,
    /// Whether the elements start with 品牌类型 and 出口享惠情况 (all but a handful do).
    pub leading_codes: bool,
    /// The elements after the leading codes.
    pub elements: Box<[Element]>,
    /// The licence codes its supervision conditions require, on import (`[0]`) and on
    /// export (`[1]`); see [`licences`].
    pub licences: [Box<[char]>; 2],
}

impl GoodsLine {
    fn new(line: &TariffLine, licence_table: Option<&CodeTable>) -> Self {
        let chapter = line.code.chapter();
        let heading = line.code.heading();
        let p1 = catalog::unit_profile(&line.unit1.name, chapter, heading);
        let p2 = line
            .unit2
            .as_ref()
            .map(|u| catalog::unit_profile(&u.name, chapter, heading));
        let kg = jinguan_types::UnitCode::KILOGRAM;
        let names = &line.declaration_elements;
        let leading_codes =
            names.len() >= 2 && names[0] == "品牌类型" && names[1] == "出口享惠情况";
        let rest = if leading_codes {
            &names[2..]
        } else {
            &names[..]
        };
        // A fixed per-line price level, so that the same goods cost about the same in every
        // declaration; seeded by the code alone so it does not depend on the options.
        let code_number: u64 = line.code.as_str().parse().unwrap_or(0);
        let mut rng = ChaCha8Rng::seed_from_u64(code_number);
        let z: f64 = rng.sample(StandardNormal);
        Self {
            hs: line.code.as_str().to_owned(),
            name: line.name.clone(),
            chapter,
            unit1: line.unit1.code.as_str().to_owned(),
            unit2: line.unit2.as_ref().map(|u| u.code.as_str().to_owned()),
            p1,
            p2,
            unit1_kg: line.unit1.code == kg,
            unit2_kg: line.unit2.as_ref().is_some_and(|u| u.code == kg),
            usd_per_unit1: p1.usd * (0.6 * z).exp(),
            leading_codes,
            elements: rest.iter().map(|name| Element::classify(name)).collect(),
            licences: [true, false]
                .map(|import| licences(&line.supervision_conditions, import, licence_table).into()),
        }
    }
}

/// Index of a direction in per-direction arrays: 0 import, 1 export.
pub(crate) fn direction(import: bool) -> usize {
    usize::from(!import)
}

/// Whether `conditions` let the goods cross in this direction (generated goods are new).
pub(crate) fn allowed(conditions: &str, import: bool) -> bool {
    !conditions
        .chars()
        .any(|c| jinguan_refdata::supervision::prohibits(c, import, false))
}

/// The licence codes that `conditions` require in this direction (see
/// [`jinguan_refdata::supervision::required_licences`]).
fn licences(conditions: &str, import: bool, table: Option<&CodeTable>) -> Vec<char> {
    table.map_or_else(Vec::new, |table| {
        jinguan_refdata::supervision::required_licences(conditions, import, table)
            .into_iter()
            .map(|(code, _)| code)
            .collect()
    })
}

/// The lines of one chapter.
#[derive(Debug, Clone)]
pub(crate) struct Chapter {
    /// HS chapter number.
    pub chapter: u8,
    /// Indexes into [`Goods::lines`] of the lines that may be imported (`[0]`) and exported
    /// (`[1]`); see [`direction`].
    pub lines: [Vec<u32>; 2],
}

/// Every line goods can be drawn from, grouped by chapter.
#[derive(Debug, Clone)]
pub(crate) struct Goods {
    /// Eligible lines in tariff order.
    pub lines: Vec<GoodsLine>,
    /// Chapters that have eligible lines, with their trade weights.
    pub chapters: Weighted<Chapter>,
    /// Indexes into [`Goods::chapters`] of the chapters with lines for imports (`[0]`) and
    /// for exports (`[1]`), with their trade weights.
    pub by_direction: [Weighted<usize>; 2],
}

impl Goods {
    /// Selects the eligible lines of the tariff.
    pub fn new(refdata: &RefData) -> Result<Self, BuildError> {
        let licence_table = refdata.table("licence-document");
        let mut lines = Vec::with_capacity(refdata.tariff.lines.len());
        let mut chapters: Vec<Chapter> = Vec::new();
        for line in &refdata.tariff.lines {
            if !eligible(line) {
                continue;
            }
            let goods = GoodsLine::new(line, licence_table);
            let index = lines.len() as u32;
            let mut chapter = match chapters.pop() {
                Some(last) if last.chapter == goods.chapter => last,
                last => {
                    chapters.extend(last);
                    Chapter {
                        chapter: goods.chapter,
                        lines: [Vec::new(), Vec::new()],
                    }
                }
            };
            for import in [true, false] {
                if allowed(&line.supervision_conditions, import) {
                    chapter.lines[direction(import)].push(index);
                }
            }
            chapters.push(chapter);
            lines.push(goods);
        }
        let by_direction = [true, false].map(|import| {
            Weighted::from_pairs(
                chapters
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| !c.lines[direction(import)].is_empty())
                    .map(|(i, c)| (i, chapter_weight(c.chapter))),
            )
        });
        let [Ok(imports), Ok(exports)] = by_direction else {
            return Err(BuildError::new(
                "tariff has no eligible lines for imports or for exports",
            ));
        };
        let weights: Vec<f64> = chapters.iter().map(|c| chapter_weight(c.chapter)).collect();
        let chapters = Weighted::new(chapters, weights)
            .map_err(|e| BuildError::new(format!("tariff has no eligible lines: {e}")))?;
        Ok(Self {
            lines,
            chapters,
            by_direction: [imports, exports],
        })
    }

    /// Draws uniformly a line of `chapter` that may cross in this direction; `None` when the
    /// chapter has none.
    pub fn line_in<R: Rng>(
        &self,
        chapter: &Chapter,
        import: bool,
        rng: &mut R,
    ) -> Option<&GoodsLine> {
        let lines = &chapter.lines[direction(import)];
        if lines.is_empty() {
            return None;
        }
        let index = lines[rng.gen_range(0..lines.len())];
        Some(&self.lines[index as usize])
    }

    /// Draws a chapter with lines for this direction by trade weight, then a line in it.
    pub fn any_line<R: Rng>(&self, import: bool, rng: &mut R) -> &GoodsLine {
        let chapter = &self.chapters.items()[*self.by_direction[direction(import)].sample(rng)];
        let lines = &chapter.lines[direction(import)];
        // Chapters without lines for the direction have no weight in `by_direction`.
        let index = lines[rng.gen_range(0..lines.len())];
        &self.lines[index as usize]
    }
}

/// Whether ordinary declarations could carry this line: not chapter 98 (special goods with no
/// ordinary trade), not prohibited both ways, and not electricity, which crosses the border by
/// wire with no weight. Lines prohibited one way only are drawn for the other direction.
fn eligible(line: &TariffLine) -> bool {
    line.code.chapter() != 98
        && (allowed(&line.supervision_conditions, true)
            || allowed(&line.supervision_conditions, false))
        && line.unit1.name != "千瓦时"
}

fn chapter_weight(chapter: u8) -> f64 {
    catalog::CHAPTER_WEIGHTS
        .iter()
        .find(|(c, _)| *c == chapter)
        .map_or(catalog::DEFAULT_CHAPTER_WEIGHT, |(_, w)| *w)
}
