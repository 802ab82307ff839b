using SdBlazor.Engine.Schedulers;
using static SdBlazor.Engine.Tests.Schedulers.SchedulerTestConfigs;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>v-prediction (SD 2.x 768): each step checked against the diffusers formulas written out in float64.</summary>
public class PredictionTypeTests
{
    private static readonly SchedulerConfig VConfig = Sd15 with { PredictionType = PredictionType.VPrediction };

    private static float[] Sample() => DummyLoop.InitialSample();

    private static float[] ModelOutput() => Enumerable.Range(0, DummyLoop.Size).Select(i => (float)Math.Sin(i * 0.37)).ToArray();

    [Fact]
    public void Parse_reads_v_prediction()
    {
        var config = SchedulerConfig.Parse("""{"prediction_type": "v_prediction", "timestep_spacing": "trailing"}""");
        Assert.Equal(PredictionType.VPrediction, config.PredictionType);
        Assert.Equal(TimestepSpacing.Trailing, config.TimestepSpacing);
    }

    [Fact]
    public void Euler_v_prediction_step()
    {
        var scheduler = SchedulerFactory.Create("Euler", "Automatic", VConfig);
        scheduler.SetTimesteps(20);
        double s0 = scheduler.Sigmas[0], s1 = scheduler.Sigmas[1];
        var x = Sample();
        var v = ModelOutput();
        var expected = x.Select((xi, i) =>
        {
            var x0 = v[i] * (-s0 / Math.Sqrt(s0 * s0 + 1)) + xi / (s0 * s0 + 1);
            return xi + (xi - x0) / s0 * (s1 - s0);
        }).ToArray();

        scheduler.Step(v, scheduler.Timesteps[0], x, null);

        for (var i = 0; i < x.Length; i++) AssertRelative(expected[i], x[i], 1e-5);
        var epsilon = SchedulerFactory.Create("Euler", "Automatic", Sd15);
        epsilon.SetTimesteps(20);
        var y = Sample();
        epsilon.Step(v, epsilon.Timesteps[0], y, null);
        Assert.NotEqual(y, x);
    }

    [Fact]
    public void Ddim_v_prediction_step()
    {
        var scheduler = SchedulerFactory.Create("DDIM", "Automatic", VConfig with { ClipSample = false });
        scheduler.SetTimesteps(20);
        var t = (int)scheduler.Timesteps[0]; // 951
        double a = scheduler.AlphasCumprod[t], aPrev = scheduler.AlphasCumprod[t - 50];
        var x = Sample();
        var v = ModelOutput();
        var expected = x.Select((xi, i) =>
        {
            var x0 = Math.Sqrt(a) * xi - Math.Sqrt(1 - a) * v[i];
            var eps = Math.Sqrt(a) * v[i] + Math.Sqrt(1 - a) * xi;
            return Math.Sqrt(aPrev) * x0 + Math.Sqrt(1 - aPrev) * eps;
        }).ToArray();

        scheduler.Step(v, t, x, null);

        for (var i = 0; i < x.Length; i++) AssertRelative(expected[i], x[i], 1e-5);
    }

    [Fact]
    public void Dpm_solver_v_prediction_first_step()
    {
        var scheduler = SchedulerFactory.Create("DPM++ 2M", "Automatic", VConfig);
        scheduler.SetTimesteps(20);
        double s = scheduler.Sigmas[0], sNext = scheduler.Sigmas[1];
        double alphaS = 1 / Math.Sqrt(s * s + 1), sigmaS = s * alphaS;
        double alphaT = 1 / Math.Sqrt(sNext * sNext + 1), sigmaT = sNext * alphaT;
        var h = (Math.Log(alphaT) - Math.Log(sigmaT)) - (Math.Log(alphaS) - Math.Log(sigmaS));
        var x = Sample();
        var v = ModelOutput();
        var expected = x.Select((xi, i) =>
        {
            var x0 = alphaS * xi - sigmaS * v[i];
            return sigmaT / sigmaS * xi - alphaT * (Math.Exp(-h) - 1) * x0;
        }).ToArray();

        scheduler.Step(v, scheduler.Timesteps[0], x, null);

        for (var i = 0; i < x.Length; i++) AssertRelative(expected[i], x[i], 1e-4);
    }
}
