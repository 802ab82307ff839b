using SdBlazor.Engine.Randomness;
using SdBlazor.Engine.Schedulers;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>
/// The goldens have no LCM entry, so these expected values come from diffusers' <c>LCMScheduler</c> source
/// (set_timesteps, get_scalings_for_boundary_condition_discrete, step) written out by hand in float64 below.
/// </summary>
public class LcmSchedulerTests
{
    // A typical LCM model config (LCM Dreamshaper v7 / LCM-LoRA): SD 1.5 betas, leading spacing, 50 original steps.
    private const string LcmConfigJson = """
        {"_class_name": "LCMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
         "num_train_timesteps": 1000, "original_inference_steps": 50, "set_alpha_to_one": true, "steps_offset": 1,
         "prediction_type": "epsilon", "timestep_scaling": 10.0, "clip_sample": false}
        """;

    [Theory]
    [InlineData(4, new[] { 999f, 759f, 499f, 259f })]
    [InlineData(1, new[] { 999f })]
    [InlineData(8, new[] { 999f, 879f, 759f, 639f, 499f, 379f, 259f, 139f })]
    public void Timesteps_are_evenly_spaced_indices_into_the_distillation_schedule(int steps, float[] expected)
    {
        // k = 1000 // 50 = 20; origin = [999, 979, …, 19]; indices = floor(linspace(0, 50, steps, endpoint=False))
        var scheduler = SchedulerFactory.Create("LCM", "Automatic", SchedulerConfig.Parse(LcmConfigJson));
        scheduler.SetTimesteps(steps);
        Assert.Equal(expected, scheduler.Timesteps);
        Assert.Equal(1f, scheduler.InitNoiseSigma);
        Assert.Empty(scheduler.Sigmas);
    }

    [Fact]
    public void Four_step_loop_matches_the_hand_written_lcm_formulas()
    {
        var scheduler = SchedulerFactory.Create("LCM", "Automatic", SchedulerConfig.Parse(LcmConfigJson));
        scheduler.SetTimesteps(4);
        var timesteps = scheduler.Timesteps.ToArray();
        var acp = scheduler.AlphasCumprod;

        // Expected: run the formulas in float64 with the same noise draws (one randn(256) per step except the last).
        var expected = DummyLoop.InitialSample().Select(v => (double)v).ToArray();
        var reference = new TorchGenerator(0);
        for (var step = 0; step < timesteps.Length; step++)
        {
            double t = timesteps[step];
            var eps = expected.Select(x => x * (float)(0.1 * t / 1000)).ToArray();
            double a = acp[(int)t];
            var scaled = t * 10.0;
            var cSkip = 0.25 / (scaled * scaled + 0.25);
            var cOut = scaled / Math.Sqrt(scaled * scaled + 0.25);
            var denoised = expected.Select((x, i) => cOut * ((x - Math.Sqrt(1 - a) * eps[i]) / Math.Sqrt(a)) + cSkip * x).ToArray();
            if (step < timesteps.Length - 1)
            {
                double aPrev = acp[(int)timesteps[step + 1]];
                var noise = new float[DummyLoop.Size];
                reference.FillNormal(noise);
                expected = denoised.Select((d, i) => Math.Sqrt(aPrev) * d + Math.Sqrt(1 - aPrev) * noise[i]).ToArray();
            }
            else
            {
                expected = denoised;
            }
        }

        var result = DummyLoop.Run(scheduler, 4, noiseSeed: 0);

        Assert.Equal(4, result.ModelCalls);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - result.Final[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])),
                $"value {i}: {result.Final[i]} vs hand-computed {expected[i]}");
        }
    }

    [Fact]
    public void Boundary_condition_makes_the_last_step_return_x0()
    {
        // c_skip → 0 and c_out → 1 at large timesteps; at t = 0 the boundary condition returns the sample itself.
        var scheduler = new LcmScheduler(SchedulerConfig.Parse(LcmConfigJson));
        var (skip0, out0) = scheduler.BoundaryScalings(0);
        Assert.Equal(1f, skip0);
        Assert.Equal(0f, out0);
        var (skip, output) = scheduler.BoundaryScalings(999);
        Assert.Equal(0.25 / (9990.0 * 9990.0 + 0.25), skip, 1e-12);
        Assert.Equal(9990.0 / Math.Sqrt(9990.0 * 9990.0 + 0.25), output, 1e-6);
    }

    [Fact]
    public void More_steps_than_the_distillation_schedule_is_rejected()
    {
        var scheduler = SchedulerFactory.Create("LCM", "Automatic", SchedulerConfig.Parse(LcmConfigJson));
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => scheduler.SetTimesteps(51));
        Assert.Contains("at most 50", error.Message);
    }

    [Fact]
    public void Lcm_needs_noise_generators_between_steps()
    {
        var scheduler = SchedulerFactory.Create("LCM", "Automatic", SchedulerConfig.Parse(LcmConfigJson));
        scheduler.SetTimesteps(4);
        var sample = DummyLoop.InitialSample();
        var error = Assert.Throws<ArgumentException>(() => scheduler.Step(new float[DummyLoop.Size], scheduler.Timesteps[0], sample, null));
        Assert.Contains("stochastic", error.Message);
    }
}
