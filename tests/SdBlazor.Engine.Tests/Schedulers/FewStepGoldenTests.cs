using System.Text.Json.Nodes;
using SdBlazor.Engine.Schedulers;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>
/// Few-step sampling (SD-Turbo / SDXL-Turbo: Euler with <c>timestep_spacing: trailing</c>, 1–4 steps; LCM with its
/// <c>original_inference_steps</c>) against <c>Fixtures/schedulers_few_step.json</c>, computed from diffusers' published
/// formulas by tools/few_step_goldens/make.py.
/// </summary>
public class FewStepGoldenTests
{
    private static readonly JsonNode Goldens =
        JsonNode.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "schedulers_few_step.json")))!;

    private static float[] Floats(JsonNode node) => node.AsArray().Select(v => (float)v!.GetValue<double>()).ToArray();

    public static TheoryData<int> EulerSteps => [1, 2, 3, 4];

    [Theory]
    [MemberData(nameof(EulerSteps))]
    public void Turbo_trailing_euler_matches_diffusers(int steps)
    {
        var golden = Goldens["euler_trailing"]!.AsArray().Single(e => e!["steps"]!.GetValue<int>() == steps)!;
        // SD-Turbo's and SDXL-Turbo's scheduler_config.json (the parts that matter).
        var config = SchedulerConfig.Parse("""
            {"_class_name": "EulerDiscreteScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "num_train_timesteps": 1000, "prediction_type": "epsilon", "steps_offset": 1, "timestep_spacing": "trailing",
             "interpolation_type": "linear", "use_karras_sigmas": false}
            """);
        var scheduler = SchedulerFactory.Create("Euler", "Automatic", config);
        var result = DummyLoop.Run(scheduler, steps, noiseSeed: null);

        Assert.Equal(Floats(golden["timesteps"]!), scheduler.Timesteps);
        AssertClose("sigmas", Floats(golden["sigmas"]!), scheduler.Sigmas.ToArray(), 1e-5);
        AssertClose("init_noise_sigma", [(float)golden["init_noise_sigma"]!.GetValue<double>()], [scheduler.InitNoiseSigma], 1e-5);
        Assert.Equal(steps, result.ModelCalls);
        AssertClose("final", Floats(golden["final_values"]!), result.Final, 1e-4);
    }

    public static TheoryData<int, int> LcmCases()
    {
        var data = new TheoryData<int, int>();
        foreach (var e in Goldens["lcm"]!.AsArray()) data.Add(e!["original_inference_steps"]!.GetValue<int>(), e["steps"]!.GetValue<int>());
        return data;
    }

    [Theory]
    [MemberData(nameof(LcmCases))]
    public void Lcm_timesteps_follow_original_inference_steps(int originalSteps, int steps)
    {
        var golden = Goldens["lcm"]!.AsArray().Single(e => e!["original_inference_steps"]!.GetValue<int>() == originalSteps && e["steps"]!.GetValue<int>() == steps)!;
        var config = SchedulerConfig.Parse($$"""
            {"_class_name": "LCMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "num_train_timesteps": 1000, "original_inference_steps": {{originalSteps}}, "set_alpha_to_one": true, "steps_offset": 1,
             "prediction_type": "epsilon", "timestep_scaling": 10.0}
            """);
        var scheduler = SchedulerFactory.Create("LCM", "Automatic", config);
        scheduler.SetTimesteps(steps);
        Assert.Equal(Floats(golden["timesteps"]!), scheduler.Timesteps);
    }

    private static void AssertClose(string what, float[] expected, float[] actual, double relative)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(1, Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} vs diffusers {expected[i]}");
    }
}
