using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>diffusers' <c>EulerDiscreteScheduler</c> (A1111 "Euler"), with s_churn = 0.</summary>
public sealed class EulerDiscreteScheduler(SchedulerConfig config) : SigmaSchedulerBase(config)
{
    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        var sigma = SigmasArray[stepIndex];
        var sigmaHat = sigma; // gamma = 0 without churn
        var x0 = Scratch(0, sample.Length);
        PredictOriginal(modelOutput, sample, Config.PredictionType == PredictionType.Epsilon ? sigmaHat : sigma, x0);
        var dt = SigmasArray[stepIndex + 1] - sigmaHat;
        for (var i = 0; i < sample.Length; i++)
        {
            var derivative = (sample[i] - x0[i]) / sigmaHat;
            sample[i] += derivative * dt;
        }
    }
}
