//! The demo's 金关二期 bonded traffic: a bonded-zone warehouse's 核注清单 (INV101, in the
//! single window client's form) moving goods into its book, and the 核放单 (SAS121) that
//! lets the truck carrying them through the gate, both signed by the demo broker; now and
//! then a draft (暂存) and an inventory with a bad quantity, sent back (退单).

use std::collections::BTreeMap;

use jinguan_chinaport::xml::{self, Limits};
use jinguan_testkit::bonded::{inv101_client, sas121_client, Bonded};

/// Posts a signed bonded message: the status and the receipt's body.
pub(crate) trait PostSigned {
    fn post_signed(&self, token: &str, body: &[u8]) -> (u16, String);
}

/// (message_type, manageResult, businessId) of an INV201/SAS221 receipt.
fn result(body: &str) -> Option<(String, String, String)> {
    let receipt = xml::parse(body.as_bytes(), Limits::default()).ok()?;
    let message_type = receipt
        .child("EnvelopInfo")?
        .child("message_type")?
        .text
        .to_string();
    let payload = receipt
        .child("DataInfo")?
        .child("BussinessData")?
        .children
        .first()?;
    let appr = payload.child("HdeApprResult")?;
    Some((
        message_type,
        appr.child("manageResult")?.text.to_string(),
        appr.child("businessId")?.text.to_string(),
    ))
}

fn note(reached: &mut BTreeMap<String, u64>, what: &str) {
    *reached.entry(what.to_owned()).or_default() += 1;
}

/// Carries bonded movement `n`: an inventory and, once it is numbered, its gate pass.
pub(crate) fn carry(
    client: &impl PostSigned,
    token: &str,
    n: u64,
    reached: &mut BTreeMap<String, u64>,
) {
    let mut inventory = Bonded::new(
        &format!("DEMO-NB{n:06}"),
        1 + usize::try_from(n % 4).unwrap_or(0),
    );
    inventory.message_id = format!("DEMO-INV-{n:06}");
    inventory.declare = n % 9 != 4;
    let mut text = inv101_client(&inventory);
    if n % 11 == 6 {
        text = text.replacen("<DclQty>10</DclQty>", "<DclQty>ten</DclQty>", 1);
    }
    let (status, body) = client.post_signed(token, text.as_bytes());
    let Some((message_type, manage, number)) = result(&body) else {
        note(reached, "bonded-refused");
        return;
    };
    note(reached, &format!("bonded:{message_type}-{manage}"));
    if status != 201 || number.is_empty() {
        return;
    }
    let mut pass = Bonded::new(&format!("DEMO-PP{n:06}"), 0);
    pass.message_id = format!("DEMO-SAS-{n:06}");
    let (_, body) = client.post_signed(token, sas121_client(&pass, &number).as_bytes());
    if let Some((message_type, manage, _)) = result(&body) {
        note(reached, &format!("bonded:{message_type}-{manage}"));
    }
}
