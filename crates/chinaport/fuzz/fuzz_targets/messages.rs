//! Every China message reader on any bytes: no panic, and what a reader takes as a message
//! of its family reads the same when read again from the same bytes (no hidden state).
#![no_main]

use jinguan_chinaport::{bonded, ceb, decmessage, dxp, manifest, xmldsig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    if let Ok((message, diagnostics)) = ceb::parse(input) {
        assert_eq!(ceb::parse(input).ok(), Some((message, diagnostics)));
    }
    if let Ok((message, diagnostics)) = bonded::parse(input) {
        // Whatever was read, a receipt can be written for it, valid by its schema.
        let receipt = bonded::Receipt {
            message_id: "R1".into(),
            sender_id: "DXPEDCEMS0000001".into(),
            business_id: String::new(),
            manage_result: if diagnostics.is_empty() { "Y" } else { "3" }.into(),
            typecd: "1".into(),
            rmk: String::new(),
            notes: diagnostics.iter().map(|d| d.message.clone()).collect(),
        };
        let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap_or_default();
        bonded::write_receipt(&message, &receipt, now).unwrap_or_else(|e| panic!("{e}"));
    }
    let _ = dxp::parse(input);
    let _ = manifest::parse(input);
    let _ = decmessage::parse(input);
    let _ = xmldsig::read(input);
});
