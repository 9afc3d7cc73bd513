//! The voucher e-mail: plain text and HTML with the code and a link to the public redeem page.

use app::billing::format_money;

use crate::mail::NewMail;

/// The redeem page's address for a code: `https://console.example.com/redeem?code=SPRING-2027`. Codes are
/// `A–Z 0–9 - _`, nothing a URL needs to escape.
pub fn redeem_link(public_origin: &str, code: &str) -> String {
    format!("{}/redeem?code={code}", public_origin.trim_end_matches('/'))
}

/// The message telling `recipient` about voucher `code`.
pub fn voucher_mail(
    public_origin: &str,
    recipient: &str,
    code: &str,
    credit_cents: i64,
    currency: &str,
    description: &str,
) -> NewMail {
    let credit = format_money(credit_cents, currency);
    let link = redeem_link(public_origin, code);
    let subject = format!("Your Catalyst voucher: {credit} of credit");
    let about = if description.trim().is_empty() {
        String::new()
    } else {
        format!("\n{}\n", description.trim())
    };
    let body_text = format!(
        "Hello,\n\n\
         you have been given a voucher for Catalyst: {credit} of credit for your organisation's own \
         Kubernetes platform (a Sovereign).\n{about}\n\
         Your voucher code: {code}\n\n\
         Redeem it here: {link}\n\n\
         Open the link, sign up, and the credit is applied to your new organisation; the console then \
         takes you straight to designing your Sovereign.\n\n\
         If you did not expect this message, you can ignore it.\n"
    );
    let about_html = if description.trim().is_empty() {
        String::new()
    } else {
        format!("<p style=\"margin:0 0 16px\">{}</p>", escape(description.trim()))
    };
    let body_html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{subject}</title></head>\
         <body style=\"margin:0;padding:24px;background:#f4f5f7;font-family:system-ui,-apple-system,Segoe UI,sans-serif;color:#111827\">\
         <div style=\"max-width:520px;margin:0 auto;background:#ffffff;border-radius:12px;padding:28px\">\
         <p style=\"margin:0 0 16px\">Hello,</p>\
         <p style=\"margin:0 0 16px\">you have been given a voucher for Catalyst: <strong>{credit}</strong> of credit \
         for your organisation's own Kubernetes platform (a Sovereign).</p>\
         {about_html}\
         <p style=\"margin:0 0 8px\">Your voucher code:</p>\
         <p style=\"margin:0 0 20px;font-size:24px;font-weight:700;letter-spacing:2px;font-family:ui-monospace,Menlo,monospace\">{code_html}</p>\
         <p style=\"margin:0 0 20px\"><a href=\"{link_html}\" style=\"display:inline-block;background:#4338ca;color:#ffffff;\
         text-decoration:none;padding:12px 20px;border-radius:8px;font-weight:600\">Redeem your voucher</a></p>\
         <p style=\"margin:0 0 16px;font-size:14px;color:#4b5563\">Or open this address: {link_html}</p>\
         <p style=\"margin:0;font-size:14px;color:#4b5563\">If you did not expect this message, you can ignore it.</p>\
         </div></body></html>",
        subject = escape(&subject),
        credit = escape(&credit),
        code_html = escape(code),
        link_html = escape(&link),
    );
    NewMail {
        kind: "voucher-issued".into(),
        subject_ref: format!("voucher:{code}"),
        recipient: recipient.to_string(),
        subject,
        body_text,
        body_html,
    }
}

/// HTML text and attribute escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_bodies_carry_the_code_and_the_link_and_html_is_escaped() {
        let m = voucher_mail(
            "https://console.example.com/",
            "ana@example.com",
            "SPRING-2027",
            10_000,
            "EUR",
            "Spring <b>launch</b> & friends",
        );
        assert_eq!(m.subject, "Your Catalyst voucher: €100.00 of credit");
        for body in [&m.body_text, &m.body_html] {
            assert!(body.contains("SPRING-2027"), "{body}");
            assert!(
                body.contains("https://console.example.com/redeem?code=SPRING-2027"),
                "{body}"
            );
        }
        assert!(m.body_text.contains("Spring <b>launch</b> & friends"));
        assert!(
            m.body_html
                .contains("Spring &lt;b&gt;launch&lt;/b&gt; &amp; friends")
        );
        assert!(!m.body_html.contains("<b>launch"));
        assert_eq!(m.subject_ref, "voucher:SPRING-2027");
    }
}
