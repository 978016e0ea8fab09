//! The intermediate model between the spec and the Rust tokens.

/// A Rust type a field can have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    String,
    /// `crate::money::Amount`: a request amount (string, two decimals).
    Amount,
    /// `crate::money::Decimal`: any JSON number, held exactly.
    Decimal,
    I64,
    /// A string of digits (`type: string, format: int64`), held as text.
    Digits,
    /// An integer that may also come as a string of digits (`oneOf` an
    /// integer and a `format: int64` string): `i64`, read leniently.
    IntOrDigits,
    Bool,
    /// `crate::money::TextOrNumber`.
    TextOrNumber,
    Vec(Box<Ty>),
    /// A generated item, by its Rust name.
    Named(String),
}

impl Ty {
    /// The type as written in Rust (for `OperationInfo` and messages).
    pub(crate) fn rust(&self) -> String {
        match self {
            Ty::String => "String".to_owned(),
            Ty::Amount => "Amount".to_owned(),
            Ty::Decimal => "Decimal".to_owned(),
            Ty::I64 | Ty::IntOrDigits => "i64".to_owned(),
            Ty::Digits => "String".to_owned(),
            Ty::Bool => "bool".to_owned(),
            Ty::TextOrNumber => "TextOrNumber".to_owned(),
            Ty::Vec(inner) => format!("Vec<{}>", inner.rust()),
            Ty::Named(name) => name.clone(),
        }
    }
}

/// One field of a generated struct.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// The property name on the wire.
    pub(crate) json: String,
    /// The Rust identifier (`r#type` for keywords).
    pub(crate) ident: String,
    /// Whether serde needs `rename = json`.
    pub(crate) rename: bool,
    pub(crate) ty: Ty,
    pub(crate) optional: bool,
    /// Held in a `Box` to break a cycle.
    pub(crate) boxed: bool,
    pub(crate) doc: String,
    /// Other keys the field is read under (serde `alias`).
    pub(crate) aliases: Vec<String>,
}

/// One known value of an open enum.
#[derive(Debug, Clone)]
pub(crate) struct Variant<V> {
    pub(crate) ident: String,
    pub(crate) value: V,
    pub(crate) doc: String,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Struct(Vec<Field>),
    StrEnum(Vec<Variant<String>>),
    IntEnum(Vec<Variant<i64>>),
}

/// A generated type.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) name: String,
    pub(crate) doc: String,
    /// Where in the spec it comes from.
    pub(crate) pointer: String,
    pub(crate) kind: Kind,
    /// Predicates over an enum's values (`x-enum-predicates`).
    pub(crate) predicates: Vec<Predicate>,
}

/// `pub const fn name(&self) -> bool`: whether the value is one of these.
#[derive(Debug, Clone)]
pub(crate) struct Predicate {
    pub(crate) name: String,
    pub(crate) doc: String,
    /// The variant identifiers it is true for.
    pub(crate) variants: Vec<String>,
}

/// One operation (path x method).
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub(crate) id: String,
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) summary: String,
    pub(crate) request: Option<Ty>,
    pub(crate) response: Option<Ty>,
    pub(crate) callback: Option<Ty>,
    /// The marker type's name.
    pub(crate) marker: String,
}

/// Everything the spec yields.
#[derive(Debug, Clone, Default)]
pub(crate) struct Api {
    pub(crate) title: String,
    pub(crate) version: String,
    pub(crate) items: Vec<Item>,
    pub(crate) operations: Vec<Operation>,
}

impl Api {
    pub(crate) fn item(&self, name: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.name == name)
    }
}
