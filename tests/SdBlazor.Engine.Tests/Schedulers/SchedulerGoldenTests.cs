using SdBlazor.Engine.Schedulers;
using SdBlazor.Engine.Tests.Fixtures;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>Every sampler of the diffusers goldens (SD 1.5 config, 20 steps) against our schedulers.</summary>
public class SchedulerGoldenTests
{
    public static TheoryData<string, string> Entries()
    {
        var data = new TheoryData<string, string>();
        foreach (var e in GoldenFixtures.Schedulers.Entries) data.Add(e.Sampler, e.ScheduleType);
        return data;
    }

    private static SchedulerBase Create(SchedulerGolden golden) =>
        SchedulerFactory.Create(golden.Sampler, golden.ScheduleType, SchedulerConfig.Parse(GoldenFixtures.Sd15SchedulerConfigJson));

    [Theory]
    [MemberData(nameof(Entries))]
    public void Schedule_matches_diffusers(string sampler, string scheduleType)
    {
        var golden = GoldenFixtures.Scheduler(sampler, scheduleType);
        var scheduler = Create(golden);
        scheduler.SetTimesteps(golden.NumInferenceSteps);

        AssertClose(golden.Timesteps, scheduler.Timesteps, 1e-4, "timesteps");
        Assert.Equal(golden.InitNoiseSigma, scheduler.InitNoiseSigma, golden.InitNoiseSigma * 1e-6);
        if (golden.Sigmas is { } sigmas) AssertClose(sigmas, scheduler.Sigmas, 1e-5, "sigmas");
        else Assert.Empty(scheduler.Sigmas);

        Assert.Equal(golden.AlphasCumprod0_499_999[0], scheduler.AlphasCumprod[0], 1e-7);
        Assert.Equal(golden.AlphasCumprod0_499_999[1], scheduler.AlphasCumprod[499], 1e-7);
        Assert.Equal(golden.AlphasCumprod0_499_999[2], scheduler.AlphasCumprod[999], 1e-8);
        Assert.Equal(golden.Order, scheduler.Order);
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void Dummy_denoising_loop_matches_diffusers(string sampler, string scheduleType)
    {
        var golden = GoldenFixtures.Scheduler(sampler, scheduleType);
        var tolerance = golden.Stochastic ? 1e-3 : 1e-4;

        var result = DummyLoop.Run(Create(golden), golden.NumInferenceSteps, golden.Stochastic ? 0UL : null);

        Assert.Equal(golden.ModelCalls, result.ModelCalls);
        var scale = golden.FinalValues.Max(Math.Abs);
        for (var i = 0; i < golden.FinalValues.Count; i++)
        {
            Assert.True(Math.Abs(golden.FinalValues[i] - result.Final[i]) <= tolerance * scale,
                $"{sampler}/{scheduleType}: value {i} is {result.Final[i]}, diffusers gives {golden.FinalValues[i]}");
        }
        for (var step = 0; step < golden.SumAfterEachStep.Count; step++)
        {
            var expected = golden.SumAfterEachStep[step];
            var actual = result.SumAfterEachStep[step];
            // Sums of ±values cancel, so compare relative to the sum of magnitudes' scale (mean |x| · n).
            var allowed = tolerance * Math.Max(Math.Abs(expected), scale);
            Assert.True(Math.Abs(expected - actual) <= allowed,
                $"{sampler}/{scheduleType}: sum after step {step + 1} is {actual}, diffusers gives {expected}");
        }
    }

    private static void AssertClose(IReadOnlyList<double> expected, IReadOnlyList<float> actual, double relative, string what)
    {
        Assert.True(expected.Count == actual.Count, $"{what}: expected {expected.Count} values, got {actual.Count}");
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * Math.Max(1, Math.Abs(expected[i])),
                $"{what}[{i}] is {actual[i]}, diffusers gives {expected[i]}");
        }
    }
}
