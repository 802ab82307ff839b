using System.Text.Json;
using System.Text.Json.Serialization;

namespace SdBlazor.Engine.Tests.Fixtures;

/// <summary>
/// Reference numbers copied from the project's goldens (diffusers v0.40.0, torch) by
/// <c>scripts/make_scheduler_fixtures.py</c>; the JSON files sit next to the test assembly.
/// </summary>
internal static class GoldenFixtures
{
    private static readonly Lazy<SchedulerGoldens> SchedulerFile = new(() => Load<SchedulerGoldens>("schedulers_sd15_20steps.json"));
    private static readonly Lazy<RandnGoldens> RandnFile = new(() => Load<RandnGoldens>("torch_randn.json"));

    public static SchedulerGoldens Schedulers => SchedulerFile.Value;
    public static RandnGoldens Randn => RandnFile.Value;

    /// <summary>SD 1.5's scheduler_config.json as shipped (PNDM class name, no timestep_spacing key).</summary>
    public static string Sd15SchedulerConfigJson => Schedulers.SchedulerConfig.GetRawText();

    public static SchedulerGolden Scheduler(string sampler, string scheduleType) =>
        Schedulers.Entries.Single(e => e.Sampler == sampler && e.ScheduleType == scheduleType);

    private static T Load<T>(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        return JsonSerializer.Deserialize<T>(File.ReadAllText(path))
               ?? throw new InvalidDataException($"Fixture {path} is empty.");
    }
}

internal sealed record SchedulerGoldens(
    [property: JsonPropertyName("scheduler_config")] JsonElement SchedulerConfig,
    [property: JsonPropertyName("entries")] List<SchedulerGolden> Entries);

internal sealed record SchedulerGolden(
    [property: JsonPropertyName("sampler")] string Sampler,
    [property: JsonPropertyName("schedule_type")] string ScheduleType,
    [property: JsonPropertyName("diffusers_class")] string DiffusersClass,
    [property: JsonPropertyName("num_inference_steps")] int NumInferenceSteps,
    [property: JsonPropertyName("order")] int Order,
    [property: JsonPropertyName("timesteps")] List<double> Timesteps,
    [property: JsonPropertyName("init_noise_sigma")] double InitNoiseSigma,
    [property: JsonPropertyName("sigmas")] List<double>? Sigmas,
    [property: JsonPropertyName("alphas_cumprod_0_499_999")] List<double> AlphasCumprod0_499_999,
    [property: JsonPropertyName("model_calls")] int ModelCalls,
    [property: JsonPropertyName("stochastic")] bool Stochastic,
    [property: JsonPropertyName("final_sum")] double FinalSum,
    [property: JsonPropertyName("final_values")] List<double> FinalValues,
    [property: JsonPropertyName("sum_after_each_step")] List<double> SumAfterEachStep);

internal sealed record RandnGoldens([property: JsonPropertyName("records")] List<RandnGolden> Records);

internal sealed record RandnGolden(
    [property: JsonPropertyName("seed")] ulong Seed,
    [property: JsonPropertyName("shape")] List<int> Shape,
    [property: JsonPropertyName("numel")] int Numel,
    [property: JsonPropertyName("first16")] List<double> First16,
    [property: JsonPropertyName("last16")] List<double> Last16,
    [property: JsonPropertyName("sum")] double Sum);
