//! DecMessage, the single-window goods declaration (报关单) XML, to and from the canonical
//! [`Declaration`].
//!
//! Accepted roots: `DecMessage` (namespace `http://www.chinaport.gov.cn/dec`, any `version`)
//! and the client import wrapper `ImportMessage` (`SWImpHead` + `SWImpData/DecMessage`, message
//! type `SWDEC001`). Reading never fails on content: an unknown element, a bad number or an
//! unknown code becomes a [`Diagnostic`]; only a document that is not well-formed XML, or not a
//! declaration at all, is an error.

use jinguan_types::declaration::{
    AttachedDocument, Container, Declaration, ElectronicDocument, EnterpriseQualification,
    Envelope, FreeText, GoodsItem, GoodsLicence, GoodsUser, Head, OtherPackage, Promise,
    RequestedCertificate, SignatureBlock, Vehicle,
};
use jinguan_types::{Diagnostic, Severity};

use crate::fields::{record, FieldContext, Record};
use crate::xml::{self, Element, Limits, XmlError};

/// The DecMessage namespace.
pub const NAMESPACE: &str = "http://www.chinaport.gov.cn/dec";

record!(Head {
    "SeqNo" => seq_no,
    "PreEntryId" => pre_entry_id,
    "EntryId" => entry_id,
    "IEFlag" => ie_flag,
    "Type" => declaration_type,
    "EntryType" => entry_type,
    "EdiId" => edi_id,
    "DeclTrnRel" => declaration_transit_relation,
    "BillType" => bill_type,
    "CustomMaster" => declaring_customs,
    "IEPort" => ie_port,
    "EntyPortCode" => entry_exit_port,
    "IEDate" => ie_date,
    "DDate" => declaration_date,
    "DespDate" => despatch_date,
    "CmplDschrgDt" => discharge_date,
    "TradeCode" => consignee.customs_code,
    "TradeCoScc" | "TradeCodeScc" => consignee.uscc,
    "TradeCiqCode" => consignee.ciq_code,
    "TradeName" => consignee.name,
    "OwnerCode" => owner.customs_code,
    "OwnerCodeScc" => owner.uscc,
    "OwnerCiqCode" => owner.ciq_code,
    "OwnerName" => owner.name,
    "AgentCode" => agent.customs_code,
    "AgentCodeScc" => agent.uscc,
    "DeclCiqCode" => agent.ciq_code,
    "AgentName" => agent.name,
    "CopCode" => input_unit.customs_code,
    "CopCodeScc" => input_unit.uscc,
    "CopName" => input_unit.name,
    "ManualNo" => filing_no,
    "ContrNo" => contract_no,
    "BillNo" => bill_of_lading,
    "LicenseNo" => licence_no,
    "ApprNo" => approval_no,
    "TrafMode" => transport_mode,
    "TrafName" => transport_means,
    "TradeMode" => trade_mode,
    "CutMode" => levy_nature,
    "TradeCountry" => trade_country,
    "TradeAreaCode" => trade_area_country,
    "DespPortCode" => departure_port,
    "DistinatePort" => destination_port,
    "TransMode" => transaction_terms,
    "FeeMark" => freight.mark,
    "FeeRate" => freight.rate,
    "FeeCurr" => freight.currency,
    "InsurMark" => insurance.mark,
    "InsurRate" => insurance.rate,
    "InsurCurr" => insurance.currency,
    "OtherMark" => other_charges.mark,
    "OtherRate" => other_charges.rate,
    "OtherCurr" => other_charges.currency,
    "PackNo" => packages,
    "WrapType" => package_type,
    "NoOtherPack" => no_other_packages,
    "GrossWet" => gross_weight_kg,
    "NetWt" => net_weight_kg,
    "MarkNo" => marks,
    "NoteS" => notes,
    "GoodsPlace" => goods_place,
    "OverseasConsignorCode" => overseas_consignor.code,
    "OverseasConsignorCname" => overseas_consignor.name_cn,
    "OverseasConsignorEname" => overseas_consignor.name_en,
    "OverseasConsignorAddr" => overseas_consignor.address,
    "OverseasConsigneeCode" => overseas_consignee.code,
    "OverseasConsigneeEname" => overseas_consignee.name_en,
    "DomesticConsigneeEname" => domestic_consignee_name_en,
    "InspOrgCode" => inspection_org,
    "PurpOrgCode" => port_inspection_org,
    "VsaOrgCode" => visa_org,
    "OrgCode" => receiving_org,
    "SpecDeclFlag" => special_declaration_flag,
    "OrigBoxFlag" => original_box_flag,
    "CorrelationNo" => correlation_no,
    "CorrelationReasonFlag" => correlation_reason,
    "PromiseItmes" => promise_items,
    "ChkSurety" => surety_check,
    "CheckFlow" => check_flow,
    "TaxAaminMark" => tax_examination_mark,
    "TypistNo" => typist_no,
    "InputerName" => inputer_name,
    "DeclareName" => declarer_name,
    "PDate" => print_date,
});

record!(GoodsItem {
    "GNo" => seq,
    "ContrItem" => contract_item,
    "CodeTS" => hs_code,
    "CiqCode" => ciq_code,
    "CiqName" => ciq_name,
    "GName" => name,
    "DeclGoodsEname" => name_en,
    "GModel" => elements,
    "GQty" => declared_qty,
    "GUnit" => declared_unit,
    "FirstQty" => legal_qty_1,
    "FirstUnit" => legal_unit_1,
    "SecondQty" => legal_qty_2,
    "SecondUnit" => legal_unit_2,
    "DeclPrice" => unit_price,
    "DeclTotal" => total_price,
    "TradeCurr" => currency,
    "OriginCountry" => origin_country,
    "DestinationCountry" => destination_country,
    "DistrictCode" => domestic_district,
    "DestCode" => destination_division,
    "OrigPlaceCode" => origin_place,
    "DutyMode" => duty_mode,
    "UseTo" => use_to,
    "WorkUsd" => processing_fee_usd,
    "ExgNo" => finished_goods_no,
    "ExgVersion" => finished_goods_version,
    "GoodsAttr" => goods_attributes,
    "Purpose" => purpose,
    "Stuff" => material,
    "GoodsSpec" => goods_spec,
    "GoodsModel" => goods_model,
    "GoodsBrand" => goods_brand,
    "ProduceDate" => produce_date,
    "ProdBatchNo" => batch_no,
    "ProdValidDt" => shelf_life,
    "ProdQgp" => quality_period,
    "Uncode" => un_code,
    "DangName" => dangerous_goods_name,
    "DangPackType" => dangerous_package_type,
    "DangPackSpec" => dangerous_package_spec,
    "NoDangFlag" => non_dangerous_flag,
    "MnufctrRegNo" => manufacturer_registration_no,
    "MnufctrRegName" => manufacturer_registration_name,
    "EngManEntCnm" => manufacturer_name,
    "ClassMark" => class_mark,
    "Factor" => factor,
});

record!(GoodsLicence {
    "GoodsNo" => goods_no,
    "LicTypeCode" => licence_type,
    "LicenceNo" => licence_no,
    "LicWrtofDetailNo" => write_off_detail_no,
    "LicWrtofQty" => write_off_qty,
});

record!(Vehicle {
    "LicenceNo" => licence_no,
    "LicTypeCode" => licence_type,
    "VinNo" => vin,
    "BillLadDate" => bill_of_lading_date,
    "QualityQgp" => quality_period,
    "MotorNo" => motor_no,
    "VinCode" => vin_code,
    "ChassisNo" => chassis_no,
    "InvoiceNum" => invoice_no,
    "ProdCnnm" => product_name_cn,
    "ProdEnnm" => product_name_en,
    "ModelEn" => model_en,
    "PricePerUnit" => unit_price,
});

record!(Container {
    "ContainerId" => container_no,
    "ContainerMd" => size_code,
    "ContainerWt" => weight_kg,
    "GoodsNo" => goods_items,
    "LclFlag" => lcl_flag,
});

record!(AttachedDocument { "DocuCode" => code, "CertCode" => number });

record!(RequestedCertificate {
    "AppCertCode" => certificate_code,
    "ApplOri" => originals,
    "ApplCopyQuan" => copies,
});

record!(OtherPackage { "PackQty" => quantity, "PackType" => package_type });

record!(EnterpriseQualification { "EntQualifNo" => number, "EntQualifTypeCode" => type_code });

record!(GoodsUser { "UseOrgPersonCode" => person_code, "UseOrgPersonTel" => telephone });

record!(Promise { "DeclaratioMaterialCode" => material_code });

record!(FreeText {
    "VoyNo" => voyage_no,
    "RelId" => related_entry_id,
    "RelManNo" => related_manual_no,
    "BonNo" => bonded_site,
    "DecBpNo" => declaration_bp_no,
    "CusFie" => yard,
    "DecNo" => declaration_no,
});

record!(SignatureBlock {
    "OperType" => operation,
    "ICCode" => ic_card,
    "CopCode" => company_code,
    "OperName" => operator_name,
    "ClientSeqNo" => client_seq_no,
    "Sign" => signature,
    "SignDate" => sign_date,
    "Certificate" => certificate,
    "HostId" => host_id,
    "BillSeqNo" => bill_seq_no,
    "DomainId" => domain_id,
    "Note" => note,
});

record!(ElectronicDocument {
    "EdocID" => edoc_id,
    "EdocCode" => edoc_code,
    "EdocFomatType" => format_type,
    "OpNote" => note,
    "EdocCopId" => file_name,
    "EdocOwnerCode" => owner_code,
    "SignUnit" => sign_unit,
    "SignTime" => sign_time,
    "EdocOwnerName" => owner_name,
    "EdocSize" => size_bytes,
});

record!(Envelope {
    "CopMsgId" => cop_msg_id,
    "MsgType" => msg_type,
    "FunctionCode" => function_code,
    "Format" => format,
    "Compress" => compress,
    "Version" => version,
});

/// Why a document is not a declaration we can read. Codes are stable API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not well-formed, too large, or otherwise unreadable XML.
    #[error("{0}")]
    Xml(#[from] XmlError),
    /// Well-formed, but the root is not a declaration.
    #[error("X0101: root element <{root}> at line {line} is not DecMessage or ImportMessage")]
    NotADeclaration {
        /// The root's local name.
        root: String,
        /// Its line.
        line: usize,
    },
}

impl ParseError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(e) => e.code,
            Self::NotADeclaration { .. } => "X0101",
        }
    }
}

/// A declaration read from XML, with what the reader noticed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The declaration.
    pub declaration: Declaration,
    /// Diagnostics; none of them stopped the reading.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads a DecMessage document, bare or inside its `ImportMessage` wrapper.
pub fn parse(bytes: &[u8]) -> Result<Parsed, ParseError> {
    parse_with_limits(bytes, Limits::default())
}

/// [`parse`] with explicit limits.
pub fn parse_with_limits(bytes: &[u8], limits: Limits) -> Result<Parsed, ParseError> {
    let root = xml::parse(bytes, limits)?;
    let mut diagnostics = Vec::new();
    let mut declaration = Declaration::default();
    let message = match root.name.as_str() {
        "DecMessage" => &root,
        "ImportMessage" => {
            if let Some(head) = root.child("SWImpHead") {
                let mut envelope = Envelope::default();
                read_record(&mut envelope, head, "SWImpHead", &mut diagnostics);
                declaration.envelope = Some(envelope);
            }
            let data = root.child("SWImpData").and_then(|d| d.child("DecMessage"));
            match data {
                Some(message) => message,
                None => {
                    return Err(ParseError::NotADeclaration {
                        root: "ImportMessage without SWImpData/DecMessage".into(),
                        line: root.line,
                    })
                }
            }
        }
        other => {
            return Err(ParseError::NotADeclaration {
                root: other.to_owned(),
                line: root.line,
            })
        }
    };
    check_namespace(message, &mut diagnostics);
    read_message(message, &mut declaration, &mut diagnostics);
    Ok(Parsed {
        declaration,
        diagnostics,
    })
}

fn check_namespace(message: &Element, diagnostics: &mut Vec<Diagnostic>) {
    match message.attribute("xmlns") {
        Some(NAMESPACE) | None => {}
        Some(other) => diagnostics.push(Diagnostic::new(
            Severity::Warning,
            "D0010",
            "DecMessage",
            format!("namespace {other:?} is not {NAMESPACE:?}; read as DecMessage"),
        )),
    }
}

fn read_message(
    message: &Element,
    declaration: &mut Declaration,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for child in &message.children {
        match child.name.as_str() {
            "DecHead" => read_record(&mut declaration.head, child, "DecHead", diagnostics),
            "DecLists" => {
                for (i, list) in children(child, "DecList", "DecLists", diagnostics).enumerate() {
                    let path = format!("DecList[{}]", i + 1);
                    let mut item = GoodsItem::default();
                    read_goods_item(&mut item, list, &path, diagnostics);
                    if item != GoodsItem::default() {
                        declaration.items.push(item);
                    }
                }
            }
            "DecContainers" => {
                read_list(child, "Container", &mut declaration.containers, diagnostics)
            }
            "DecLicenseDocus" => read_list(
                child,
                "LicenseDocu",
                &mut declaration.documents,
                diagnostics,
            ),
            "DecRequestCerts" => read_list(
                child,
                "DecRequestCert",
                &mut declaration.requested_certificates,
                diagnostics,
            ),
            "DecOtherPacks" => read_list(
                child,
                "DecOtherPack",
                &mut declaration.other_packages,
                diagnostics,
            ),
            "DecCopLimits" => read_list(
                child,
                "DecCopLimit",
                &mut declaration.enterprise_qualifications,
                diagnostics,
            ),
            "DecUsers" => read_list(child, "DecUser", &mut declaration.users, diagnostics),
            "DecCopPromises" => read_list(
                child,
                "DecCopPromise",
                &mut declaration.promises,
                diagnostics,
            ),
            "DecFreeTxt" => {
                read_record(&mut declaration.free_text, child, "DecFreeTxt", diagnostics)
            }
            "DecSign" => {
                let mut signature = SignatureBlock::default();
                read_record(&mut signature, child, "DecSign", diagnostics);
                declaration.signature = Some(signature);
            }
            "EdocRealation" => {
                let mut document = ElectronicDocument::default();
                read_record(&mut document, child, "EdocRealation", diagnostics);
                if document != ElectronicDocument::default() {
                    declaration.electronic_documents.push(document);
                }
            }
            other => diagnostics.push(unknown(&format!("DecMessage/{other}"), child.line)),
        }
    }
}

fn unknown(path: &str, line: usize) -> Diagnostic {
    Diagnostic::new(
        Severity::Warning,
        "D0011",
        path,
        format!("element at line {line} is not part of DecMessage and was ignored"),
    )
}

/// The children named `name`, with a warning for any other.
fn children<'a>(
    parent: &'a Element,
    name: &'a str,
    path: &'a str,
    diagnostics: &mut Vec<Diagnostic>,
) -> impl Iterator<Item = &'a Element> + 'a {
    for other in parent.children.iter().filter(|c| c.name != name) {
        diagnostics.push(unknown(&format!("{path}/{}", other.name), other.line));
    }
    parent.children.iter().filter(move |c| c.name == name)
}

fn read_list<T: Record + Default + PartialEq>(
    parent: &Element,
    name: &str,
    out: &mut Vec<T>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let elements: Vec<&Element> = children(parent, name, &parent.name, diagnostics).collect();
    for (i, element) in elements.into_iter().enumerate() {
        let mut record = T::default();
        read_record(
            &mut record,
            element,
            &format!("{name}[{}]", i + 1),
            diagnostics,
        );
        // Templates carry empty placeholders (`<DecUser />`); they hold nothing to keep.
        if record != T::default() {
            out.push(record);
        }
    }
}

fn read_record<T: Record>(
    record: &mut T,
    element: &Element,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for child in &element.children {
        if !child.children.is_empty() {
            diagnostics.push(unknown(&format!("{path}/{}", child.name), child.line));
            continue;
        }
        if child.text.is_empty() {
            continue;
        }
        let mut context = FieldContext {
            path,
            element: &child.name,
            diagnostics,
        };
        if !record.set(&child.name, &child.text, &mut context) {
            record
                .other_fields()
                .push((child.name.to_string(), child.text.to_string()));
        }
    }
}

fn read_goods_item(
    item: &mut GoodsItem,
    element: &Element,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let (nested, flat): (Vec<&Element>, Vec<&Element>) = element
        .children
        .iter()
        .partition(|c| c.name == "DecGoodsLimits");
    let flat = Element {
        children: flat.into_iter().cloned().collect(),
        ..Element::default()
    };
    read_record(item, &flat, path, diagnostics);
    for limits in nested {
        for (i, limit) in children(limits, "DecGoodsLimit", path, diagnostics).enumerate() {
            let limit_path = format!("{path}/DecGoodsLimit[{}]", i + 1);
            let (vins, fields): (Vec<&Element>, Vec<&Element>) = limit
                .children
                .iter()
                .partition(|c| c.name == "DecGoodsLimitVin");
            let mut licence = GoodsLicence::default();
            let flat = Element {
                children: fields.into_iter().cloned().collect(),
                ..Element::default()
            };
            read_record(&mut licence, &flat, &limit_path, diagnostics);
            for (j, vin) in vins.into_iter().enumerate() {
                let mut vehicle = Vehicle::default();
                read_record(
                    &mut vehicle,
                    vin,
                    &format!("{limit_path}/DecGoodsLimitVin[{}]", j + 1),
                    diagnostics,
                );
                if vehicle != Vehicle::default() {
                    licence.vehicles.push(vehicle);
                }
            }
            if licence != GoodsLicence::default() {
                item.licences.push(licence);
            }
        }
    }
}

/// How to write a declaration.
#[derive(Debug, Clone, Copy, Default)]
pub struct WriteOptions {
    /// Wrap in `ImportMessage`/`SWImpHead` (message type `SWDEC001`) even if the declaration
    /// did not arrive in one. A declaration with an [`Envelope`] is always wrapped.
    pub wrap: bool,
}

/// Writes a declaration as DecMessage XML (UTF-8, two-space indentation).
pub fn write(declaration: &Declaration, options: WriteOptions) -> String {
    let mut out = Writer {
        text: String::with_capacity(4096),
        depth: 0,
    };
    out.text
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let envelope = match (&declaration.envelope, options.wrap) {
        (Some(envelope), _) => Some(envelope.clone()),
        (None, true) => Some(Envelope {
            msg_type: Some("SWDEC001".into()),
            format: Some("xml".into()),
            compress: Some("0".into()),
            version: Some("1.0".into()),
            ..Envelope::default()
        }),
        (None, false) => None,
    };
    match envelope {
        Some(envelope) => {
            out.open("ImportMessage", "");
            out.record("SWImpHead", &envelope);
            out.open("SWImpData", "");
            write_message(&mut out, declaration);
            out.close("SWImpData");
            out.close("ImportMessage");
        }
        None => write_message(&mut out, declaration),
    }
    out.text
}

fn write_message(out: &mut Writer, declaration: &Declaration) {
    out.open("DecMessage", &format!(" xmlns=\"{NAMESPACE}\""));
    out.record("DecHead", &declaration.head);
    out.open("DecLists", "");
    for item in &declaration.items {
        out.open("DecList", "");
        out.fields(item);
        if !item.licences.is_empty() {
            out.open("DecGoodsLimits", "");
            for licence in &item.licences {
                out.open("DecGoodsLimit", "");
                out.fields(licence);
                for vehicle in &licence.vehicles {
                    out.record("DecGoodsLimitVin", vehicle);
                }
                out.close("DecGoodsLimit");
            }
            out.close("DecGoodsLimits");
        }
        out.close("DecList");
    }
    out.close("DecLists");
    out.list("DecContainers", "Container", &declaration.containers);
    out.list("DecLicenseDocus", "LicenseDocu", &declaration.documents);
    out.list(
        "DecRequestCerts",
        "DecRequestCert",
        &declaration.requested_certificates,
    );
    out.list("DecOtherPacks", "DecOtherPack", &declaration.other_packages);
    out.list(
        "DecCopLimits",
        "DecCopLimit",
        &declaration.enterprise_qualifications,
    );
    out.list("DecUsers", "DecUser", &declaration.users);
    out.list("DecCopPromises", "DecCopPromise", &declaration.promises);
    if !declaration.free_text.is_empty() {
        out.record("DecFreeTxt", &declaration.free_text);
    }
    if let Some(signature) = &declaration.signature {
        out.record("DecSign", signature);
    }
    for document in &declaration.electronic_documents {
        out.record("EdocRealation", document);
    }
    out.close("DecMessage");
}

struct Writer {
    text: String,
    depth: usize,
}

impl Writer {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.text.push_str("  ");
        }
    }

    fn open(&mut self, name: &str, attributes: &str) {
        self.indent();
        self.text.push('<');
        self.text.push_str(name);
        self.text.push_str(attributes);
        self.text.push_str(">\n");
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        self.text.push_str("</");
        self.text.push_str(name);
        self.text.push_str(">\n");
    }

    fn fields(&mut self, record: &dyn Record) {
        record.each(&mut |name, value| {
            self.indent();
            self.text.push('<');
            self.text.push_str(name);
            self.text.push('>');
            self.text.push_str(&xml::escape(value));
            self.text.push_str("</");
            self.text.push_str(name);
            self.text.push_str(">\n");
        });
    }

    fn record(&mut self, name: &str, record: &dyn Record) {
        self.open(name, "");
        self.fields(record);
        self.close(name);
    }

    fn list<T: Record>(&mut self, outer: &str, inner: &str, records: &[T]) {
        if records.is_empty() {
            return;
        }
        self.open(outer, "");
        for record in records {
            self.record(inner, record);
        }
        self.close(outer);
    }
}
