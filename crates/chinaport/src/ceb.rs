//! Cross-border e-commerce messages (CEB, 公告2018年第113号 and its 2022-05 revision).
//!
//! A CEB business message is a root `CEBnnnMessage` (`guid`, `version` attributes, namespace
//! `http://www.chinaport.gov.cn/ceb`) holding one or more business entities, a
//! `BaseTransfer` (who sends, over which DXP node), optional `BaseSubscribe` and
//! `ExtendMessage` blocks, and an XML signature that is mandatory where `appStatus` is 2.
//! The schemas of both editions are shipped compiled (`data/schemas/ceb-*.json`, see
//! [`crate::xsd`]).

use std::sync::OnceLock;

use crate::xsd::Schema;

/// The CEB namespace.
pub const NAMESPACE: &str = "http://www.chinaport.gov.cn/ceb";

/// An edition of the CEB specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edition {
    /// 公告2018年第113号 (2018).
    Gacc2018,
    /// The 2022-05 revision (adds CEB213-216 returns and tally messages).
    Gacc202205,
}

impl Edition {
    /// The identifier of the edition's compiled schema.
    pub fn id(self) -> &'static str {
        match self {
            Self::Gacc2018 => "ceb-2018-113",
            Self::Gacc202205 => "ceb-202205",
        }
    }

    /// Both editions, newest first.
    pub const ALL: [Edition; 2] = [Self::Gacc202205, Self::Gacc2018];
}

/// The compiled schema of an edition (import and export business messages together).
pub fn schema(edition: Edition) -> &'static Schema {
    static SCHEMAS: [OnceLock<Schema>; 2] = [OnceLock::new(), OnceLock::new()];
    let (slot, json) = match edition {
        Edition::Gacc2018 => (
            &SCHEMAS[0],
            include_str!("../../../data/schemas/ceb-2018-113.json"),
        ),
        Edition::Gacc202205 => (
            &SCHEMAS[1],
            include_str!("../../../data/schemas/ceb-202205.json"),
        ),
    };
    slot.get_or_init(|| {
        // The shipped JSON is checked by a test against the official XSDs; failing to read
        // it is a build defect, not an input error.
        #[allow(clippy::expect_used)]
        Schema::from_json(json).expect("the shipped CEB schema is valid JSON")
    })
}
