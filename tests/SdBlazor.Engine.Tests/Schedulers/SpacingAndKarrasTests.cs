using SdBlazor.Engine.Schedulers;
using SdBlazor.Engine.Tests.Fixtures;
using static SdBlazor.Engine.Tests.Schedulers.SchedulerTestConfigs;

namespace SdBlazor.Engine.Tests.Schedulers;

public class SpacingAndKarrasTests
{
    private static readonly float[] Trailing20 = Enumerable.Range(0, 20).Select(i => (float)(999 - 50 * i)).ToArray();

    [Fact]
    public void Trailing_spacing_starts_at_the_last_training_timestep()
    {
        var config = Sd15 with { TimestepSpacing = TimestepSpacing.Trailing };
        foreach (var sampler in new[] { "Euler", "DDIM", "DPM++ 2M" })
        {
            var scheduler = SchedulerFactory.Create(sampler, "Automatic", config);
            scheduler.SetTimesteps(20);
            Assert.Equal(Trailing20, scheduler.Timesteps);
        }
        var euler = SchedulerFactory.Create("Euler", "Automatic", config);
        euler.SetTimesteps(20);
        // trailing starts at σ_max, so the initial noise is not widened
        Assert.Equal(euler.Sigmas[0], euler.InitNoiseSigma);
        AssertRelative(TrainSigma(euler, 999), euler.Sigmas[0]);
        AssertRelative(TrainSigma(euler, 49), euler.Sigmas[19]);
    }

    [Fact]
    public void Leading_spacing_adds_steps_offset_and_widens_initial_noise_for_sigma_schedulers()
    {
        var euler = SchedulerFactory.Create("Euler", "Automatic", Sd15 with { TimestepSpacing = TimestepSpacing.Leading });
        euler.SetTimesteps(20);

        Assert.Equal(Enumerable.Range(0, 20).Select(i => (float)(951 - 50 * i)), euler.Timesteps);
        AssertRelative(TrainSigma(euler, 951), euler.Sigmas[0]);
        AssertRelative(Math.Sqrt(euler.Sigmas[0] * euler.Sigmas[0] + 1), euler.InitNoiseSigma);

        // DPM-Solver spaces steps + 1 points and drops the last: 1000 // 21 = 47
        var dpm = SchedulerFactory.Create("DPM++ 2M", "Automatic", Sd15 with { TimestepSpacing = TimestepSpacing.Leading });
        dpm.SetTimesteps(20);
        Assert.Equal(Enumerable.Range(1, 20).Reverse().Select(i => (float)(i * 47 + 1)), dpm.Timesteps);
    }

    [Fact]
    public void Linspace_ddim_rounds_an_evenly_spaced_range()
    {
        var ddim = SchedulerFactory.Create("DDIM", "Automatic", Sd15 with { TimestepSpacing = TimestepSpacing.Linspace });
        ddim.SetTimesteps(4);
        Assert.Equal([999f, 666f, 333f, 0f], ddim.Timesteps);
    }

    [Fact]
    public void Euler_karras_sigmas_follow_the_karras_ramp_between_the_schedule_ends()
    {
        var euler = SchedulerFactory.Create("Euler", "Karras", Sd15);
        euler.SetTimesteps(21);

        double max = TrainSigma(euler, 999), min = TrainSigma(euler, 0);
        AssertRelative(max, euler.Sigmas[0]);
        AssertRelative(min, euler.Sigmas[20]);
        Assert.Equal(0f, euler.Sigmas[21]);
        var middle = Math.Pow(Math.Pow(max, 1 / 7.0) + 0.5 * (Math.Pow(min, 1 / 7.0) - Math.Pow(max, 1 / 7.0)), 7);
        AssertRelative(middle, euler.Sigmas[10]);
        // timesteps map back from σ: fractional, strictly decreasing from 999 to 0
        Assert.Equal(999f, euler.Timesteps[0], 1e-3f);
        Assert.Equal(0f, euler.Timesteps[^1], 1e-3f);
        Assert.Contains(euler.Timesteps, t => t != MathF.Round(t));
        Assert.True(euler.Timesteps.Zip(euler.Timesteps.Skip(1)).All(p => p.First > p.Second));
    }

    [Fact]
    public void Euler_karras_matches_the_diffusers_karras_golden_of_dpm_solver()
    {
        // With linspace spacing both classes ramp between σ(999) and σ(0), so the sigmas agree; DPM rounds the timesteps.
        var golden = GoldenFixtures.Scheduler("DPM++ 2M", "Karras");
        var euler = SchedulerFactory.Create("Euler", "Karras", Sd15);
        euler.SetTimesteps(20);

        for (var i = 0; i < golden.Sigmas!.Count; i++) AssertRelative(golden.Sigmas[i], euler.Sigmas[i]);
        Assert.Equal(golden.Timesteps.Select(t => (float)t), euler.Timesteps.Select(t => MathF.Round(t, MidpointRounding.ToEven)));
    }

    [Fact]
    public void Automatic_schedule_keeps_the_models_use_karras_sigmas()
    {
        var fromConfig = SchedulerFactory.Create("DPM++ 2M", "Automatic", Sd15 with { UseKarrasSigmas = true });
        fromConfig.SetTimesteps(20);
        Assert.Equal(GoldenFixtures.Scheduler("DPM++ 2M", "Karras").Timesteps.Select(t => (float)t), fromConfig.Timesteps);
    }
}
