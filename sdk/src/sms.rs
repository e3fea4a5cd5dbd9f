//! What SMS channels share: phone numbers in E.164, the sender (a number, a
//! short code or an alphanumeric sender ID), Apprise's one-line form of SMS
//! services, and fitting a text into a service's maximum the way SMS counts
//! it (GSM-7 characters, or UTF-16 units once one character is outside
//! GSM-7). It stops at the request: each channel builds and reads its own.

use crate::text::{Limit, truncate};
use crate::url::OneLine;
use crate::{Message, SendError, Settings};

/// The GSM 03.38 default alphabet (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                          ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension table (an escape and the character: two septets each).
const GSM7_EXTENDED: &str = "\u{c}^{}\\[~]|€";

/// How an SMS carries a text: 7-bit GSM characters, or UCS-2 as soon as one
/// character is outside GSM-7 (an emoji, a CJK character, a curly quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn of(text: &str) -> Encoding {
        if text
            .chars()
            .all(|c| GSM7_BASIC.contains(c) || GSM7_EXTENDED.contains(c))
        {
            Encoding::Gsm7
        } else {
            Encoding::Ucs2
        }
    }

    /// What a single SMS holds, and each part of a concatenated one (the
    /// rest is the concatenation header): 160/153 septets, 70/67 UTF-16 units.
    fn capacity(self) -> (usize, usize) {
        match self {
            Encoding::Gsm7 => (160, 153),
            Encoding::Ucs2 => (70, 67),
        }
    }

    /// The length of `text` in this encoding's units: septets (an extension
    /// character costs two) or UTF-16 code units.
    pub fn units(self, text: &str) -> usize {
        match self {
            Encoding::Gsm7 => text
                .chars()
                .map(|c| if GSM7_EXTENDED.contains(c) { 2 } else { 1 })
                .sum(),
            Encoding::Ucs2 => text.encode_utf16().count(),
        }
    }
}

/// How many SMS parts `text` is sent as (what the services bill).
pub fn segments(text: &str) -> usize {
    let encoding = Encoding::of(text);
    let units = encoding.units(text);
    let (single, part) = encoding.capacity();
    if units <= single {
        1
    } else {
        units.div_ceil(part)
    }
}

/// A service's maximum text length, by encoding, in the units it counts:
/// characters for GSM-7 text, UTF-16 units for UCS-2 text (Plivo: 1,600 and
/// 737; Twilio: 1,600 for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub gsm7: usize,
    pub ucs2: usize,
}

impl Budget {
    /// The same maximum whatever the encoding.
    pub const fn chars(n: usize) -> Budget {
        Budget { gsm7: n, ucs2: n }
    }

    /// At most `n` parts of a concatenated message: 153 GSM-7 characters
    /// or 67 UTF-16 units each (a single part holds more, 160 / 70, but a
    /// text longer than that is `n` parts of the smaller size).
    pub const fn parts(n: usize) -> Budget {
        let n = if n == 0 { 1 } else { n };
        if n == 1 {
            Budget {
                gsm7: 160,
                ucs2: 70,
            }
        } else {
            Budget {
                gsm7: 153 * n,
                ucs2: 67 * n,
            }
        }
    }

    /// `text` if it fits, else cut to fit with a marker: `...` in GSM-7
    /// text, since `…` is not in GSM-7 and would turn the whole message
    /// into UCS-2 (less than half as many characters per part), `…` in UCS-2.
    pub fn fit(self, text: &str) -> String {
        match Encoding::of(text) {
            Encoding::Gsm7 => truncate(text, Limit::Chars(self.gsm7), "..."),
            Encoding::Ucs2 => truncate(text, Limit::Utf16(self.ucs2), crate::text::CUT_MARKER),
        }
    }
}

/// An SMS's text: title, body and link as plain text, cut to `budget`.
pub fn text(msg: &Message, budget: Budget) -> String {
    budget.fit(&msg.text_with_link())
}

/// A phone number in E.164: a country code and the subscriber number, 7 to
/// 15 digits in all (the ITU's maximum is 15; the shortest numbers in use
/// with a country code have 7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// A number as people write it: `+1 (555) 010-0123`, `+44 7700 900000`,
    /// `15550100123`. Spaces, dashes, dots and parentheses are dropped; a
    /// leading `+` is optional (the digits are read as international).
    pub fn parse(written: &str) -> Result<Phone, String> {
        let s = written.trim();
        let rest = s.strip_prefix('+').unwrap_or(s);
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => return Err(format!("{written:?} is not a phone number")),
            }
        }
        if !(7..=15).contains(&digits.len()) {
            return Err(format!(
                "{written:?} is not a phone number in E.164 (7 to 15 digits with the country code)"
            ));
        }
        Ok(Phone(digits))
    }

    /// `+` and the digits, as most APIs take it.
    pub fn e164(&self) -> String {
        format!("+{}", self.0)
    }

    /// The digits alone (Vonage's and Plivo's form).
    pub fn digits(&self) -> &str {
        &self.0
    }
}

/// Phone numbers in a setting, separated by `,` or `;` (not spaces: people
/// write numbers with them), each checked; none is an empty list.
pub fn phones(settings: &Settings, key: &str) -> Result<Vec<Phone>, SendError> {
    let mut out: Vec<Phone> = Vec::new();
    for item in settings.list(key, &[',', ';', '\n']) {
        let phone =
            Phone::parse(item).map_err(|why| SendError::Config(format!("`{key}`: {why}")))?;
        if !out.contains(&phone) {
            out.push(phone);
        }
    }
    Ok(out)
}

/// Who an SMS comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A phone number (E.164).
    Phone(Phone),
    /// A short code: 3 to 6 digits, valid in one country.
    ShortCode(String),
    /// An alphanumeric sender ID: 1 to 11 letters, digits and spaces, at
    /// least one a letter (the GSM limit of the originating address).
    Alphanumeric(String),
}

impl Sender {
    pub fn parse(written: &str) -> Result<Sender, String> {
        let s = written.trim();
        let digits_only = s.chars().all(|c| c.is_ascii_digit());
        if digits_only && (3..=6).contains(&s.len()) {
            return Ok(Sender::ShortCode(s.to_string()));
        }
        if let Ok(phone) = Phone::parse(s) {
            return Ok(Sender::Phone(phone));
        }
        let alnum = s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
        if alnum && s.chars().any(|c| c.is_ascii_alphabetic()) && s.chars().count() <= 11 {
            return Ok(Sender::Alphanumeric(s.to_string()));
        }
        Err(format!(
            "{written:?} is neither a phone number, a short code nor a sender ID of up to 11 letters and digits"
        ))
    }

    /// As most APIs take it: `+digits` for a number, else as written.
    pub fn e164(&self) -> String {
        match self {
            Sender::Phone(p) => p.e164(),
            Sender::ShortCode(s) | Sender::Alphanumeric(s) => s.clone(),
        }
    }

    /// The digits of a number without `+`, else as written (Vonage, Plivo).
    pub fn digits(&self) -> String {
        match self {
            Sender::Phone(p) => p.digits().to_string(),
            Sender::ShortCode(s) | Sender::Alphanumeric(s) => s.clone(),
        }
    }

    /// Its number, when it has one (a channel that texts the sender itself
    /// when no recipient is named).
    pub fn phone(&self) -> Option<&Phone> {
        match self {
            Sender::Phone(p) => Some(p),
            _ => None,
        }
    }
}

/// The sender in setting `key`, checked.
pub fn sender(settings: &Settings, key: &str) -> Result<Sender, SendError> {
    Sender::parse(settings.require(key)?)
        .map_err(|why| SendError::Config(format!("`{key}`: {why}")))
}

/// The recipients in setting `to`, else the sender's own number (Apprise's
/// rule: with no one named, the message goes to the number it comes from);
/// a sender without a number and no recipient is a configuration error.
pub fn recipients(settings: &Settings, from: &Sender) -> Result<Vec<Phone>, SendError> {
    let to = phones(settings, "to")?;
    if !to.is_empty() {
        return Ok(to);
    }
    from.phone().cloned().map(|p| vec![p]).ok_or_else(|| {
        SendError::Config("set `to`: the sender has no number to text instead".into())
    })
}

impl OneLine {
    /// Apprise's one-line form of SMS services,
    /// `SCHEME://USER:PASSWORD@FROM[/TO...]`, with `?from=` or `?source=`
    /// for the sender and `?to=` for more recipients: the sender, and the
    /// recipients joined with `,` (absent when none is named).
    pub fn sms_parties(&self) -> (Option<String>, Option<String>) {
        let from = self
            .param("from")
            .or_else(|| self.param("source"))
            .map(str::to_string)
            .or_else(|| (!self.host.is_empty()).then(|| self.host.clone()));
        let mut to: Vec<String> = self.path.clone();
        to.extend(self.to_param());
        (from, (!to.is_empty()).then(|| to.join(",")))
    }

    /// The recipients in `?to=`, separated by `,` or `;`.
    pub fn to_param(&self) -> Vec<String> {
        self.param("to")
            .map(|v| {
                v.split([',', ';'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The recipients of Apprise's form whose host is one of them rather
    /// than the sender (`clicksend://USER:KEY@TO/TO?to=`): the host, the
    /// path, then `?to=`.
    pub fn sms_targets(&self) -> Vec<String> {
        let mut to: Vec<String> = Vec::new();
        if !self.host.is_empty() {
            to.push(self.host.clone());
        }
        to.extend(self.path.iter().cloned());
        to.extend(self.to_param());
        to
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        Settings::from(crate::testing::pairs(pairs))
    }

    #[test]
    fn counts_parts_as_sms_does() {
        assert_eq!(Encoding::of("Build 7 passed: 100% @ £3"), Encoding::Gsm7);
        assert_eq!(Encoding::of("smart “quotes”"), Encoding::Ucs2);
        assert_eq!(Encoding::of("部署完成"), Encoding::Ucs2);
        // `€` and `[` are GSM-7's extension table: two septets each.
        assert_eq!(Encoding::Gsm7.units("€[a"), 5);
        assert_eq!(Encoding::Ucs2.units("😀a"), 3);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        assert_eq!(segments(&"é".repeat(160)), 1);
        assert_eq!(segments(&"中".repeat(70)), 1);
        assert_eq!(segments(&"中".repeat(71)), 2);
        assert_eq!(segments(&"中".repeat(134)), 2);
        assert_eq!(segments(&"中".repeat(135)), 3);
        assert_eq!(segments(""), 1);
    }

    #[test]
    fn cuts_gsm_text_without_turning_it_into_ucs2() {
        let plivo = Budget {
            gsm7: 1600,
            ucs2: 737,
        };
        let long = "a".repeat(2000);
        let cut = plivo.fit(&long);
        assert_eq!(cut.chars().count(), 1600);
        assert!(cut.ends_with("..."));
        assert_eq!(Encoding::of(&cut), Encoding::Gsm7);
        let wide = "中".repeat(800);
        let cut = plivo.fit(&wide);
        assert_eq!(cut.encode_utf16().count(), 737);
        assert!(cut.ends_with('…'));
        assert_eq!(plivo.fit("short"), "short");
        // A budget in parts: what `segments` counts stays within it. (The
        // extension table's two septets are not budgeted: services count
        // characters, as here.)
        for n in [1, 2, 8] {
            let b = Budget::parts(n);
            assert_eq!(segments(&b.fit(&"a".repeat(5000))), n);
            assert_eq!(segments(&b.fit(&"中".repeat(5000))), n);
        }
        assert_eq!(
            Budget::parts(8),
            Budget {
                gsm7: 1224,
                ucs2: 536
            }
        );
        assert_eq!(Budget::chars(10).fit("😀😀😀😀😀😀"), "😀😀😀😀…");
        let mut m = crate::testing::message("Deploy", "done");
        m.link = Some("https://ci.example.com/7".into());
        assert_eq!(
            text(&m, Budget::chars(1600)),
            "Deploy\n\ndone\n\nhttps://ci.example.com/7"
        );
    }

    #[test]
    fn reads_phone_numbers_as_people_write_them() {
        assert_eq!(
            Phone::parse("+1 (555) 010-0123").unwrap().e164(),
            "+15550100123"
        );
        assert_eq!(
            Phone::parse("447700900000").unwrap().digits(),
            "447700900000"
        );
        assert_eq!(
            Phone::parse(" +44.7700.900000 ").unwrap().e164(),
            "+447700900000"
        );
        assert!(Phone::parse("+1 555").is_err());
        assert!(Phone::parse("+1234567890123456").is_err());
        assert!(Phone::parse("ops@example.com").is_err());
        assert!(Phone::parse("+1555010012x").is_err());
        let s = settings(&[
            ("to", "+15550100123; +44 7700 900000,15550100123"),
            ("bad", "+1 555, 1"),
        ]);
        assert_eq!(
            phones(&s, "to").unwrap(),
            vec![Phone("15550100123".into()), Phone("447700900000".into())]
        );
        assert!(matches!(phones(&s, "bad"), Err(SendError::Config(m)) if m.starts_with("`bad`:")));
        assert!(phones(&s, "none").unwrap().is_empty());
    }

    #[test]
    fn tells_numbers_short_codes_and_sender_ids_apart() {
        assert_eq!(
            Sender::parse("+1 555 010 0123").unwrap(),
            Sender::Phone(Phone("15550100123".into()))
        );
        assert_eq!(
            Sender::parse("12345").unwrap(),
            Sender::ShortCode("12345".into())
        );
        assert_eq!(
            Sender::parse("Acme CI").unwrap(),
            Sender::Alphanumeric("Acme CI".into())
        );
        assert_eq!(Sender::parse("Acme CI").unwrap().e164(), "Acme CI");
        assert_eq!(
            Sender::parse("+15550100123").unwrap().digits(),
            "15550100123"
        );
        assert!(Sender::parse("TwelveLetter").is_err());
        assert!(Sender::parse("a@b").is_err());
        assert!(Sender::parse("12").is_err());
        let from = Sender::parse("+15550100123").unwrap();
        assert_eq!(
            recipients(&settings(&[]), &from).unwrap(),
            vec![Phone("15550100123".into())]
        );
        let alpha = Sender::parse("AcmeCI").unwrap();
        assert!(matches!(
            recipients(&settings(&[]), &alpha),
            Err(SendError::Config(_))
        ));
        assert!(matches!(
            sender(&settings(&[]), "from"),
            Err(SendError::Config(_))
        ));
    }

    #[test]
    fn reads_apprises_sms_form() {
        let u = OneLine::parse(
            "twilio://AC1:tok@15550100123/15550100124/%2B447700900000?to=15550100125;15550100126",
            &["twilio"],
        )
        .unwrap();
        assert_eq!(
            u.sms_parties(),
            (
                Some("15550100123".into()),
                Some("15550100124,+447700900000,15550100125,15550100126".into())
            )
        );
        let u = OneLine::parse("vonage://k:s@?from=AcmeCI", &["vonage"]).unwrap();
        assert_eq!(u.sms_parties(), (Some("AcmeCI".into()), None));
        let u = OneLine::parse("vonage://k:s@", &["vonage"]).unwrap();
        assert_eq!(u.sms_parties(), (None, None));
        let u = OneLine::parse(
            "clicksend://u:k@15550100123/15550100124?to=15550100125;%20",
            &["clicksend"],
        )
        .unwrap();
        assert_eq!(
            u.sms_targets(),
            vec!["15550100123", "15550100124", "15550100125"]
        );
        assert_eq!(u.to_param(), vec!["15550100125"]);
    }
}
