//! Whether an answer would reveal who asked (R-DOC-3), as a pure function.

/// Company-form endings dropped to find a firm's short name in a text.
const FORMS: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团",
    "公司",
    "厂",
];

/// The ways a text may name the asker: its name with and without its company form, its
/// credit code, its user's display name and user name (each at least 2 characters).
pub fn identifiers(
    org_name: &str,
    credit_code: &str,
    display_name: &str,
    username: &str,
) -> Vec<String> {
    let mut out = vec![org_name.trim().to_string()];
    let mut short = org_name.trim();
    while let Some(f) = FORMS.iter().find(|f| short.ends_with(*f)) {
        short = short[..short.len() - f.len()].trim_end();
    }
    out.push(short.to_string());
    out.extend([credit_code, display_name, username].map(|s| s.trim().to_string()));
    out.retain(|s| s.chars().count() >= 2);
    out
}

/// Whether `answer` contains any of the asker's `identifiers` (ignoring ASCII case).
pub fn reveals(answer: &str, identifiers: &[String]) -> bool {
    let a = answer.to_lowercase();
    identifiers.iter().any(|i| a.contains(&i.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids() -> Vec<String> {
        identifiers(
            "湖北楚禾信息技术有限公司",
            "91420202MA4000001X",
            "张伟",
            "supplier1",
        )
    }

    #[test]
    fn r_doc_3_an_answer_naming_the_asker_is_caught_by_name_short_name_code_or_person() {
        assert!(reveals("关于湖北楚禾信息技术有限公司的提问:……", &ids()));
        assert!(reveals("湖北楚禾信息技术来函询问交货期", &ids()));
        assert!(reveals("代码 91420202ma4000001x 的供应商", &ids()));
        assert!(reveals("张伟先生提出的问题", &ids()));
        assert!(reveals("SUPPLIER1 asked", &ids()));
        assert!(!reveals(
            "有供应商询问交货期,答复如下:交货期 30 日。",
            &ids()
        ));
    }

    #[test]
    fn r_doc_3_one_character_names_are_not_searched() {
        let ids = identifiers("厂", "", "王", "ab");
        assert_eq!(ids, vec!["ab".to_string()]);
    }
}
