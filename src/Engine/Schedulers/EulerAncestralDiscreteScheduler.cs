using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// diffusers' <c>EulerAncestralDiscreteScheduler</c> (A1111 "Euler a"): an Euler step down to σ_down, then fresh
/// noise of size σ_up. One <c>randn</c> per step per image, including the last (where σ_up = 0), as diffusers draws it.
/// </summary>
public sealed class EulerAncestralDiscreteScheduler(SchedulerConfig config) : SigmaSchedulerBase(config)
{
    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        var sigmaFrom = SigmasArray[stepIndex];
        var sigmaTo = SigmasArray[stepIndex + 1];
        var x0 = Scratch(0, sample.Length);
        PredictOriginal(modelOutput, sample, sigmaFrom, x0);

        var sigmaUp = MathF.Sqrt(sigmaTo * sigmaTo * (sigmaFrom * sigmaFrom - sigmaTo * sigmaTo) / (sigmaFrom * sigmaFrom));
        var sigmaDown = MathF.Sqrt(sigmaTo * sigmaTo - sigmaUp * sigmaUp);
        var dt = sigmaDown - sigmaFrom;
        for (var i = 0; i < sample.Length; i++)
        {
            var derivative = (sample[i] - x0[i]) / sigmaFrom;
            sample[i] += derivative * dt;
        }

        var fresh = DrawNoise(noise, sample.Length);
        for (var i = 0; i < sample.Length; i++) sample[i] += fresh[i] * sigmaUp;
    }
}
