//! DecMessage reading and writing on documents built here (no corpus needed).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_chinaport::check::check_codes;
use jinguan_chinaport::decmessage::{self, WriteOptions};
use jinguan_types::Severity;

const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<DecMessage xmlns="http://www.chinaport.gov.cn/dec">
  <DecHead>
    <IEFlag>I</IEFlag>
    <CustomMaster>2201</CustomMaster>
    <TradeCountry>502</TradeCountry>
    <TradeMode>0110</TradeMode>
    <TradeCoScc>91440300MA5FHK4H1X</TradeCoScc>
    <GrossWet>12.5</GrossWet>
    <IEDate>2026133</IEDate>
    <PackNo>lots</PackNo>
    <FutureField>kept &amp; echoed</FutureField>
  </DecHead>
  <DecLists>
    <DecList>
      <GNo>1</GNo>
      <CodeTS>2203000000</CodeTS>
      <GName>啤酒 &lt;特&gt;</GName>
      <GQty>100</GQty>
      <GUnit>095</GUnit>
      <TradeCurr>USD</TradeCurr>
      <OriginCountry>XXY</OriginCountry>
      <DecGoodsLimits>
        <DecGoodsLimit>
          <LicTypeCode>a</LicTypeCode>
          <LicenceNo>QD2201260000001</LicenceNo>
          <DecGoodsLimitVin><VinNo>LVSHCAMB1CE012345</VinNo></DecGoodsLimitVin>
        </DecGoodsLimit>
      </DecGoodsLimits>
    </DecList>
    <DecList>
      <GNo>2</GNo>
      <CodeTS>9999999999</CodeTS>
    </DecList>
  </DecLists>
  <DecLicenseDocus><LicenseDocu><DocuCode>W</DocuCode><CertCode>1</CertCode></LicenseDocu></DecLicenseDocus>
  <Surprise/>
</DecMessage>"#;

#[test]
fn content_problems_are_diagnostics_not_failures() {
    let parsed = decmessage::parse(SMALL.as_bytes()).unwrap();
    let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(
        codes,
        ["D0003", "D0002", "D0011"],
        "{:#?}",
        parsed.diagnostics
    );
    let head = &parsed.declaration.head;
    assert_eq!(
        head.other_fields,
        vec![("FutureField".to_owned(), "kept & echoed".to_owned())]
    );
    assert_eq!(
        parsed.declaration.items[0].name.as_deref(),
        Some("啤酒 <特>")
    );
    assert_eq!(
        parsed.declaration.items[0].licences[0].vehicles[0]
            .vin
            .as_deref(),
        Some("LVSHCAMB1CE012345")
    );
}

#[test]
fn code_checks_report_every_problem() {
    let data = jinguan_refdata::RefData::load().unwrap();
    let mut declaration = decmessage::parse(SMALL.as_bytes()).unwrap().declaration;
    let diagnostics = check_codes(&mut declaration, &data);
    let found: Vec<(&str, &str, Severity)> = diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.path.as_str(), d.severity))
        .collect();
    assert_eq!(
        found,
        [
            ("D0501", "DecHead/consignee/uscc", Severity::Error),
            ("D0101", "DecHead/TradeCountry", Severity::Info),
            ("D0102", "DecList[1]/OriginCountry", Severity::Error),
            ("D0402", "DecList[2]/CodeTS", Severity::Error),
            ("D0302", "LicenseDocu[1]/DocuCode", Severity::Error),
        ]
    );
    assert_eq!(declaration.head.trade_country.as_deref(), Some("USA"));
    assert_eq!(
        declaration.items[0].origin_country.as_deref(),
        Some("XXY"),
        "unknown codes are kept"
    );
}

#[test]
fn writing_escapes_and_round_trips() {
    let parsed = decmessage::parse(SMALL.as_bytes()).unwrap();
    let text = decmessage::write(&parsed.declaration, WriteOptions::default());
    assert!(text.contains("<GName>啤酒 &lt;特&gt;</GName>"), "{text}");
    assert!(text.contains("<FutureField>kept &amp; echoed</FutureField>"));
    let again = decmessage::parse(text.as_bytes()).unwrap();
    assert_eq!(again.declaration, parsed.declaration);
    assert!(again.diagnostics.is_empty(), "{:?}", again.diagnostics);
}

#[test]
fn not_a_declaration() {
    let error = decmessage::parse(b"<Manifest><Head/></Manifest>").unwrap_err();
    assert_eq!(error.code(), "X0101");
    assert!(error.to_string().contains("<Manifest>"));
}

#[test]
fn hostile_inputs_never_panic() {
    // A cheap deterministic fuzz: every prefix and a set of byte mutations of a real document.
    let bytes = SMALL.as_bytes();
    for end in 0..bytes.len() {
        let _ = decmessage::parse(&bytes[..end]);
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..3_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut mutated = bytes.to_vec();
        let at = (state % mutated.len() as u64) as usize;
        mutated[at] = (state >> 32) as u8;
        let _ = decmessage::parse(&mutated);
    }
}
