//! Enums picked by name: `--algo sac`, `--dataset cifar10`, `"reg": "era"` in a config.
//!
//! Each such enum declares its names once with [`named_choice!`], which gives it `ALL`, `as_str`,
//! `Display` and a `FromStr` whose error lists the valid names. The names must equal the enum's serde
//! names, so that the command line, `config.json` and run logs agree.

/// Finds the choice called `s` among `all`; otherwise an error naming `what` and the valid names,
/// e.g. ``unknown dataset `svhn` (valid: mnist, cifar10)``.
pub fn parse<T: Copy>(s: &str, what: &str, all: &[T], name: fn(T) -> &'static str) -> Result<T, String> {
    all.iter().copied().find(|c| name(*c) == s).ok_or_else(|| {
        let names: Vec<&str> = all.iter().map(|c| name(*c)).collect();
        format!("unknown {what} `{s}` (valid: {})", names.join(", "))
    })
}

/// Gives a fieldless enum its names: an `ALL` slice in listing order, `as_str`, `Display` and
/// `FromStr` (through [`parse`]).
///
/// ```ignore
/// named_choice!(Algo, "algorithm", { Sac => "sac", Ppo => "ppo" });
/// ```
macro_rules! named_choice {
    ($ty:ident, $what:literal, { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// Every choice, in the order `--help` lists them.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The name on the command line, in `config.json` and in run logs.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),+
                }
            }
        }

        impl ::std::fmt::Display for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $ty {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $crate::choice::parse(s, $what, Self::ALL, Self::as_str)
            }
        }
    };
}

pub(crate) use named_choice;

#[cfg(test)]
mod tests {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Shade {
        Light,
        DarkGrey,
    }

    named_choice!(Shade, "shade", { Light => "light", DarkGrey => "dark-grey" });

    #[test]
    fn names_round_trip_and_match_serde() {
        assert_eq!(Shade::ALL, &[Shade::Light, Shade::DarkGrey]);
        assert_eq!(Shade::DarkGrey.as_str(), "dark-grey");
        check(Shade::ALL);
    }

    /// Each name parses back, and is the serde name both ways.
    fn check<T>(all: &[T])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + std::str::FromStr<Err = String>,
        T: serde::Serialize + serde::de::DeserializeOwned,
    {
        for &c in all {
            let name = c.to_string();
            assert_eq!(name.parse::<T>(), Ok(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(name));
            assert_eq!(serde_json::from_value::<T>(serde_json::json!(name)).unwrap(), c);
        }
    }

    #[test]
    fn every_named_choice_is_its_serde_name() {
        check(crate::softmax_floor::FloorMode::ALL);
        check(crate::llm_scaling::Regime::ALL);
        check(crate::runlog::Domain::ALL);
        #[cfg(feature = "burn")]
        {
            check(crate::control::Algo::ALL);
            check(crate::control::mlp::Nonlinearity::ALL);
            check(crate::vision::classifier::ModelKind::ALL);
            check(crate::vision::classifier::Regularizer::ALL);
        }
        #[cfg(feature = "data")]
        check(crate::data::DatasetKind::ALL);
        #[cfg(feature = "llm")]
        check(crate::llm::grpo::AdvantageSign::ALL);
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_valid_ones() {
        assert_eq!("black".parse::<Shade>(), Err("unknown shade `black` (valid: light, dark-grey)".to_string()));
        // Exact match only: neither case nor surrounding space is forgiven.
        assert!("Light".parse::<Shade>().is_err());
        assert!(" light".parse::<Shade>().is_err());
    }
}
