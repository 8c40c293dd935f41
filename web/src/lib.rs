//! The era explorer's logic that does not touch the page: what each explorer computes from its
//! parameters ([`explore`]), how parameters live in the URL ([`params`]), what a chart shows and its CSV ([`figure`]), the explorers' guided steps ([`guide`]) and how run logs become
//! charts ([`replay`]). It builds and is unit-tested on the host; the components in `main.rs` draw it.

pub mod explore;
pub mod figure;
pub mod guide;
pub mod params;
pub mod replay;
