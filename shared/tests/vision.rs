//! The vision trainer end to end on the CPU backend in `f32`, the precision `era train vision` runs
//! and checkpoints in: a resumed run continues bit for bit, for every regulariser.
#![allow(clippy::unwrap_used)]

use burn::backend::{Autodiff, NdArray};
use era_shared::data::{DatasetKind, ImageDataset};
use era_shared::train::{Logged, Trainer};
use era_shared::vision::config::VisionConfig;
use era_shared::vision::trainer::VisionTrainer;
use era_shared::vision::{ModelKind, Regularizer};

type B = Autodiff<NdArray<f32>>;

/// `n` 3-channel 8×8 images of 4 classes, each class a bright square in its own quadrant.
fn quadrants(n: usize) -> ImageDataset {
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for i in 0..n {
        let c = i % 4;
        for ch in 0..3 {
            for y in 0..8 {
                for x in 0..8 {
                    let on = (y / 4) * 2 + x / 4 == c;
                    images.push(if on {
                        180 + ((i * 13 + ch * 7 + x) % 70) as u8
                    } else {
                        ((i + x * y + ch) % 40) as u8
                    });
                }
            }
        }
        labels.push(c as u16);
    }
    let class_names = (0..4).map(|c| format!("q{c}")).collect();
    ImageDataset { images: images.into(), labels, channels: 3, height: 8, width: 8, class_names, files: None }
}

fn run(trainer: &mut VisionTrainer<B>, steps: Option<usize>) -> Vec<Logged> {
    let mut logs = Vec::new();
    let mut done = 0;
    while !trainer.is_done() && steps.is_none_or(|s| done < s) {
        logs.extend(pollster::block_on(trainer.advance()).unwrap());
        done += 1;
    }
    logs
}

#[test]
fn resume_continues_bit_for_bit_for_every_regulariser_and_model() {
    let dev = Default::default();
    for (model, reg) in [
        (ModelKind::SmallCnn, Regularizer::None),
        (ModelKind::SmallCnn, Regularizer::Era),
        (ModelKind::SmallCnn, Regularizer::LabelSmoothing),
        (ModelKind::SmallCnn, Regularizer::Dropout),
        (ModelKind::Resnet18, Regularizer::Era),
    ] {
        // CIFAR-10 settings, so crops and flips are drawn too.
        let c = VisionConfig::new(DatasetKind::Cifar10, model)
            .with_reg(reg)
            .with_strength(0.2)
            .with_h0(0.8)
            .with_epochs(2)
            .with_batch_size(8)
            .with_log_every(3);
        let full = run(&mut VisionTrainer::<B>::new(c.clone(), quadrants(32), quadrants(8), &dev).unwrap(), None);
        let mut first = VisionTrainer::<B>::new(c.clone(), quadrants(32), quadrants(8), &dev).unwrap();
        let mut logs = run(&mut first, Some(5));
        let parts = first.save().unwrap();
        let mut second = VisionTrainer::<B>::new(c, quadrants(32), quadrants(8), &dev).unwrap();
        second.load(&parts).unwrap();
        logs.extend(run(&mut second, None));
        // Training logs at steps 3, 4 (epoch end), 6 and 8 (epoch end), evaluations at 4 and 8.
        assert_eq!(full.len(), 6, "{model} {reg}");
        assert_eq!(logs, full, "{model} {reg}");
    }
}
