//! The canonical goods declaration (报关单).
//!
//! Every message family (DecMessage XML, EDIFACT CUSDEC, the JSON API) maps to this one model.
//! It is a faithful carrier, not a validator: codes are kept as the sender wrote them (after
//! any legacy-to-ISO mapping) so that a declaration with an unknown code can still be read,
//! receipted and rejected with every error at once. Validation against code tables lives in
//! `jinguan-refdata` and produces [`Diagnostic`]s; business rules live in `clearance`.
//!
//! Amounts and quantities are decimals. Dates are calendar dates (`yyyyMMdd` on the wire).
//! Fields a sender used that this model does not name are kept in `other_fields`, in order,
//! so that nothing received is lost.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::IeFlag;

/// A whole declaration: head, goods items and the attached lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Declaration {
    /// Transport wrapper details when the declaration arrived inside one (SWImpHead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub envelope: Option<Envelope>,
    /// The head (DecHead).
    pub head: Head,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Goods items, in declared order (DecList, GNo 1..n).
    pub items: Vec<GoodsItem>,
    /// Containers (DecContainers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
    /// Attached licences and documents (随附单证, DecLicenseDocus).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<AttachedDocument>,
    /// Certificates requested from inspection (DecRequestCerts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub requested_certificates: Vec<RequestedCertificate>,
    /// Other packages (DecOtherPacks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_packages: Vec<OtherPackage>,
    /// Enterprise qualifications (DecCopLimits).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub enterprise_qualifications: Vec<EnterpriseQualification>,
    /// Users of the goods (DecUsers).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<GoodsUser>,
    /// Enterprise promises and declared materials (DecCopPromises).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub promises: Vec<Promise>,
    /// Free-text references (DecFreeTxt).
    #[serde(skip_serializing_if = "FreeText::is_empty")]
    pub free_text: FreeText,
    /// The declarant's signature block (DecSign).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureBlock>,
    /// Electronic attachments (EdocRealation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub electronic_documents: Vec<ElectronicDocument>,
}

/// An enterprise named on the declaration by its several identifiers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Party {
    /// 10-character customs registration code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customs_code: Option<String>,
    /// 18-character unified social credit code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// 10-digit inspection registration code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciq_code: Option<String>,
    /// Registered name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A head-level charge (freight, insurance, other) with its mark.
///
/// Mark 1 means `rate` is a percentage of the goods value, mark 2 a per-unit amount, mark 3 a
/// total amount in `currency`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Charge {
    /// `1` rate, `2` unit price, `3` total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mark: Option<String>,
    /// The rate or amount, by mark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Decimal>,
    /// Currency of an amount (ISO alpha-3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A party abroad.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OverseasParty {
    /// Its code (AEO number or other).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Name in Chinese.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_cn: Option<String>,
    /// Name in a foreign language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// Address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A field the model does not name, kept verbatim: element name and text.
pub type OtherField = (String, String);

/// The declaration head (DecHead).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)] // Each field is documented by its wire name in `jinguan-chinaport`.
pub struct Head {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Data-centre unified number (统一编号), assigned on receipt.
    pub seq_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Pre-entry number (预录入编号).
    pub pre_entry_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Customs entry id (海关编号), 18 digits, assigned on acceptance.
    pub entry_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Import or export.
    pub ie_flag: Option<IeFlag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Document type (单据类型), e.g. `ZC`.
    pub declaration_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Entry type (报关单类型), e.g. `M` paperless.
    pub entry_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edi_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_transit_relation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Declaring customs (申报地海关), 4 digits.
    pub declaring_customs: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Customs of import or export (进出境关别), 4 digits.
    pub ie_port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Domestic port of entry or exit (入境/离境口岸), 6 digits.
    pub entry_exit_port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ie_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub despatch_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discharge_date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "is_default")]
    /// Domestic consignee or consignor (境内收发货人).
    pub consignee: Party,
    #[serde(skip_serializing_if = "is_default")]
    /// Consuming or producing unit (消费使用/生产销售单位).
    pub owner: Party,
    #[serde(skip_serializing_if = "is_default")]
    /// Declaring agent (申报单位).
    pub agent: Party,
    #[serde(skip_serializing_if = "is_default")]
    /// Data-entry unit (录入单位).
    pub input_unit: Party,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Filing number (备案号): processing-trade manual or account book.
    pub filing_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contract_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_of_lading: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Transport mode code (运输方式).
    pub transport_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Means of transport name (运输工具名称).
    pub transport_means: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Trade mode (监管方式), 4 digits.
    pub trade_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Levy nature (征免性质), 3 digits.
    pub levy_nature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Country of departure or arrival (启运国/运抵国).
    pub trade_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Trading country (贸易国).
    pub trade_area_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Port of departure (启运港).
    pub departure_port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Port of stop or destination (经停港/指运港).
    pub destination_port: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Transaction terms (成交方式): 1 CIF, 2 C&F, 3 FOB ...
    pub transaction_terms: Option<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub freight: Charge,
    #[serde(skip_serializing_if = "is_default")]
    pub insurance: Charge,
    #[serde(skip_serializing_if = "is_default")]
    pub other_charges: Charge,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packages: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Package type (包装种类), GB 2-digit code.
    pub package_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_other_packages: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gross_weight_kg: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub net_weight_kg: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub marks: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_place: Option<String>,
    #[serde(skip_serializing_if = "is_default")]
    pub overseas_consignor: OverseasParty,
    #[serde(skip_serializing_if = "is_default")]
    pub overseas_consignee: OverseasParty,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domestic_consignee_name_en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port_inspection_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visa_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiving_org: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub special_declaration_flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original_box_flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub correlation_reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Price statements (价格说明) as the 0/1/9 flag string.
    pub promise_items: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub surety_check: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_flow: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_examination_mark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typist_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declarer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub print_date: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Fields the model does not name, kept verbatim.
    pub other_fields: Vec<OtherField>,
}

/// One goods item (DecList).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct GoodsItem {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Item number, 1-based (GNo).
    pub seq: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Item number in the filing (备案序号).
    pub contract_item: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// 10-digit commodity code.
    pub hs_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// 3-digit inspection suffix.
    pub ciq_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ciq_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Declaration elements (规格型号), `|`-separated.
    pub elements: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_qty_1: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_unit_1: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_qty_2: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legal_unit_2: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_country: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Domestic destination or source district (境内目的地/货源地), 5 digits.
    pub domestic_district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Administrative division of destination (目的地代码).
    pub destination_division: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin_place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Duty mode (征减免税方式).
    pub duty_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub use_to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processing_fee_usd: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_goods_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_goods_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_attributes: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub produce_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shelf_life: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub un_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerous_goods_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerous_package_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dangerous_package_spec: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_dangerous_flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_registration_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_registration_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_mark: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub factor: Option<Decimal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Licence write-off lines (DecGoodsLimit).
    pub licences: Vec<GoodsLicence>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// A licence used by one goods item, with the quantity written off (DecGoodsLimit).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct GoodsLicence {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub goods_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Licence code (监管证件代码), case-sensitive.
    pub licence_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_off_detail_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub write_off_qty: Option<Decimal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Vehicle details for licences of cars (DecGoodsLimitVin).
    pub vehicles: Vec<Vehicle>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// One vehicle on a licence line (DecGoodsLimitVin).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Vehicle {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vin: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_of_lading_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality_period: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub motor_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vin_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chassis_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name_cn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_name_en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_en: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<Decimal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// A container (Container).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Container {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight_kg: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Goods item numbers in this container, comma-separated.
    pub goods_items: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lcl_flag: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// An attached licence or document (LicenseDocu).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct AttachedDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Licence or document code (监管证件代码), case-sensitive.
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// A certificate requested from inspection (DecRequestCert).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct RequestedCertificate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub originals: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copies: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// Another package kind in the consignment (DecOtherPack).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct OtherPackage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// An enterprise qualification (DecCopLimit).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct EnterpriseQualification {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// A user of the goods (DecUser).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct GoodsUser {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub telephone: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// A promise or declared material (DecCopPromise).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Promise {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub material_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// Free-text references (DecFreeTxt).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct FreeText {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voyage_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_entry_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related_manual_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bonded_site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_bp_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub yard: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declaration_no: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

impl FreeText {
    /// True when no field is set.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// The declarant's signature block (DecSign).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct SignatureBlock {
    #[serde(skip_serializing_if = "Option::is_none")]
    /// A upload, C declare, G temporary store, ...
    pub operation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ic_card: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The enterprise's idempotency key, echoed in every receipt.
    pub client_seq_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bill_seq_no: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// An electronic attachment (EdocRealation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct ElectronicDocument {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edoc_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edoc_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sign_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

/// The single-window import wrapper head (SWImpHead).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[allow(missing_docs)]
pub struct Envelope {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cop_msg_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// `SWDEC001` for declarations.
    pub msg_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compress: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_fields: Vec<OtherField>,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}
