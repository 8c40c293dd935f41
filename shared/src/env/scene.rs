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

impl Role {
    /// Its colour in every picture era draws (the explorer's canvas, `era eval control --video`):
    /// the Okabe–Ito palette's blue for bodies and vermillion for targets, greys for the rest.
    pub fn rgb(self) -> [u8; 3] {
        match self {
            Self::Ground => [0x9a, 0x9a, 0x9a],
            Self::Body => [0x00, 0x72, 0xb2],
            Self::Joint => [0x1b, 0x1b, 0x1b],
            Self::Target => [0xd5, 0x5e, 0x00],
        }
    }

    /// [`Role::rgb`] as a CSS colour, `#rrggbb`.
    pub fn css(self) -> String {
        let [r, g, b] = self.rgb();
        format!("#{r:02x}{g:02x}{b:02x}")
    }
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

/// Where a scene's view lands in a `width × height` picture: scaled to fit whole, centred, y up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Pixels per world unit (the same along both axes).
    pub scale: f64,
    x0: f64,
    y0: f64,
    ox: f64,
    oy: f64,
    height: f64,
}

impl Fit {
    /// The pixel of world point `p` (x right, y down, as pictures count).
    pub fn to_pixels(&self, p: [f64; 2]) -> (f64, f64) {
        (self.ox + (p[0] - self.x0) * self.scale, self.height - self.oy - (p[1] - self.y0) * self.scale)
    }
}

impl Scene {
    /// How this scene's view fits a `width × height` picture.
    pub fn fit(&self, width: f64, height: f64) -> Fit {
        let [x0, x1, y0, y1] = self.view;
        let scale = (width / (x1 - x0)).min(height / (y1 - y0));
        Fit { scale, x0, y0, ox: (width - scale * (x1 - x0)) / 2.0, oy: (height - scale * (y1 - y0)) / 2.0, height }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_is_fitted_whole_and_centred_with_y_up() {
        // A 4 × 2 view in a 200 × 200 picture: 50 px per unit, 50 px bands above and below.
        let scene = Scene { view: [-2.0, 2.0, 0.0, 2.0], shapes: Vec::new() };
        let fit = scene.fit(200.0, 200.0);
        assert_eq!(fit.scale, 50.0);
        assert_eq!(fit.to_pixels([-2.0, 0.0]), (0.0, 150.0));
        assert_eq!(fit.to_pixels([2.0, 2.0]), (200.0, 50.0));
        assert_eq!(fit.to_pixels([0.0, 1.0]), (100.0, 100.0));
    }

    #[test]
    fn role_colours_read_as_css() {
        assert_eq!(Role::Body.css(), "#0072b2");
        assert_eq!(Role::Target.css(), "#d55e00");
    }
}
