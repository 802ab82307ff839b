using SdBlazor.Engine.Schedulers;
using static SdBlazor.Engine.Tests.Schedulers.SchedulerTestConfigs;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>img2img: start index from strength, forward noising at the start timestep, and running the rest of the schedule.</summary>
public class AddNoiseTests
{
    private static readonly float[] Original = DummyLoop.InitialSample();
    private static readonly float[] Noise = Enumerable.Range(0, DummyLoop.Size).Select(i => (float)Math.Cos(i * 0.11)).ToArray();

    [Theory]
    [InlineData(20, 0.75, 1, 5)]
    [InlineData(20, 1.0, 1, 0)]
    [InlineData(20, 0.0, 1, 20)]
    [InlineData(20, 0.5, 2, 20)]
    [InlineData(7, 0.3, 1, 5)]
    public void Start_index_follows_diffusers_get_timesteps(int steps, double strength, int order, int expected) =>
        Assert.Equal(expected, ImageToImage.StartIndex(steps, strength, order));

    [Fact]
    public void Strength_outside_0_to_1_is_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageToImage.StartIndex(20, 1.5, 1));

    [Fact]
    public void Euler_adds_sigma_scaled_noise_at_the_begin_index()
    {
        var scheduler = SchedulerFactory.Create("Euler", "Automatic", Sd15);
        scheduler.SetTimesteps(20);
        var start = ImageToImage.StartIndex(20, 0.75, scheduler.Order);
        scheduler.SetBeginIndex(start);
        var destination = new float[DummyLoop.Size];

        scheduler.AddNoise(Original, Noise, scheduler.Timesteps[start], destination);

        var sigma = scheduler.Sigmas[start];
        for (var i = 0; i < destination.Length; i++) Assert.Equal(Original[i] + Noise[i] * sigma, destination[i], 1e-5f);
    }

    [Fact]
    public void Without_a_begin_index_the_timestep_is_looked_up()
    {
        var scheduler = SchedulerFactory.Create("Euler", "Automatic", Sd15);
        scheduler.SetTimesteps(20);
        var destination = new float[DummyLoop.Size];
        scheduler.AddNoise(Original, Noise, scheduler.Timesteps[7], destination);
        Assert.Equal(Original[3] + Noise[3] * scheduler.Sigmas[7], destination[3], 1e-5f);

        Assert.Throws<ArgumentException>(() => scheduler.AddNoise(Original, Noise, 123.456f, destination));
    }

    [Fact]
    public void Ddim_and_lcm_use_alphas_cumprod_at_the_timestep()
    {
        foreach (var sampler in new[] { "DDIM", "LCM" })
        {
            var scheduler = SchedulerFactory.Create(sampler, "Automatic", Sd15);
            scheduler.SetTimesteps(4);
            var t = scheduler.Timesteps[1];
            double a = scheduler.AlphasCumprod[(int)t];
            var destination = new float[DummyLoop.Size];

            scheduler.AddNoise(Original, Noise, t, destination);

            for (var i = 0; i < destination.Length; i++)
            {
                AssertRelative(Math.Sqrt(a) * Original[i] + Math.Sqrt(1 - a) * Noise[i], destination[i]);
            }
        }
    }

    [Fact]
    public void Dpm_solver_noises_in_variance_preserving_form()
    {
        var scheduler = SchedulerFactory.Create("DPM++ 2M", "Automatic", Sd15);
        scheduler.SetTimesteps(20);
        scheduler.SetBeginIndex(5);
        var destination = new float[DummyLoop.Size];

        scheduler.AddNoise(Original, Noise, scheduler.Timesteps[5], destination);

        double sigma = scheduler.Sigmas[5];
        var alpha = 1 / Math.Sqrt(sigma * sigma + 1);
        for (var i = 0; i < destination.Length; i++) AssertRelative(alpha * Original[i] + alpha * sigma * Noise[i], destination[i]);
    }

    [Theory]
    [InlineData("Euler")]
    [InlineData("Heun")]
    [InlineData("DPM++ 2M")]
    [InlineData("DDIM")]
    // Not LMS: diffusers' LMS pairs order-4 coefficients with the few derivatives an img2img run holds at first, so
    // even a perfect model does not land on the original; LmsImg2ImgGoldenTests checks it against that rule instead.
    public void Img2img_loop_runs_the_remaining_steps_and_denoises(string sampler)
    {
        // set_alpha_to_one makes DDIM's last step land on ᾱ = 1 (SD 1.5 leaves a little noise at ᾱ_0 instead).
        var scheduler = SchedulerFactory.Create(sampler, "Automatic", Sd15 with { SetAlphaToOne = true });
        scheduler.SetTimesteps(20);
        var start = ImageToImage.StartIndex(20, 0.5, scheduler.Order);
        scheduler.SetBeginIndex(start);
        var latents = new float[DummyLoop.Size];
        scheduler.AddNoise(Original, Noise, scheduler.Timesteps[start], latents);

        // A perfect model: it predicts exactly the noise that was added, so the loop must return the original.
        var calls = 0;
        var x = new float[DummyLoop.Size];
        var output = new float[DummyLoop.Size];
        foreach (var t in scheduler.Timesteps.Skip(start).ToArray())
        {
            scheduler.ScaleModelInput(latents, t, x);
            Noise.CopyTo(output, 0);
            calls++;
            scheduler.Step(output, t, latents, null);
        }

        Assert.Equal(scheduler.Timesteps.Count - start, calls);
        for (var i = 0; i < latents.Length; i++) Assert.Equal(Original[i], latents[i], 2e-3f);
    }
}
