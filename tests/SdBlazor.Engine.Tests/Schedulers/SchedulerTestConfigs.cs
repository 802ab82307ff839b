using SdBlazor.Engine.Schedulers;
using SdBlazor.Engine.Tests.Fixtures;

namespace SdBlazor.Engine.Tests.Schedulers;

internal static class SchedulerTestConfigs
{
    public static SchedulerConfig Sd15 => SchedulerConfig.Parse(GoldenFixtures.Sd15SchedulerConfigJson);

    /// <summary>The golden Euler schedule's training sigmas are σ_t = √((1 − ᾱ_t)/ᾱ_t).</summary>
    public static double TrainSigma(SchedulerBase scheduler, int t)
    {
        double a = scheduler.AlphasCumprod[t];
        return Math.Sqrt((1 - a) / a);
    }

    public static void AssertRelative(double expected, double actual, double relative = 1e-5) =>
        Assert.True(Math.Abs(expected - actual) <= relative * Math.Max(1, Math.Abs(expected)), $"expected {expected}, got {actual}");
}
