//! What an environment looks like at one moment: a few shapes in world coordinates, drawn by the explorer.

use serde::Serialize;

/// What a shape stands for, so a renderer can colour it consistently across tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Ground, track or walls.
    Ground,
    /// A moving body (a link, the car).
    Body,
    /// A joint or pivot.
    Joint,
    /// The goal or target.
    Target,
}

/// A shape in world coordinates (y up).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shape {
    /// A thick segment (a link, a rod).
    Segment {
        /// Start point.
        from: [f64; 2],
        /// End point.
        to: [f64; 2],
        /// Thickness in world units.
        width: f64,
        /// What it is.
        role: Role,
    },
    /// A filled circle.
    Circle {
        /// Centre.
        center: [f64; 2],
        /// Radius in world units.
        radius: f64,
        /// What it is.
        role: Role,
    },
    /// An open polyline (a track, a trajectory).
    Polyline {
        /// The points in order.
        points: Vec<[f64; 2]>,
        /// What it is.
        role: Role,
    },
}

/// A frame to draw: the visible world rectangle and its shapes, back to front.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scene {
    /// `[x_min, x_max, y_min, y_max]` of the view.
    pub view: [f64; 4],
    /// Shapes, drawn in order.
    pub shapes: Vec<Shape>,
}
