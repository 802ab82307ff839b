using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// diffusers' <c>DDIMScheduler</c> (A1111 "DDIM") with η = 0: deterministic. Default spacing is leading; class
/// defaults <c>set_alpha_to_one = true</c> and <c>clip_sample = true</c> apply only when the config leaves them out.
/// </summary>
public sealed class DdimScheduler : SchedulerBase
{
    private readonly float _finalAlphaCumprod;

    public DdimScheduler(SchedulerConfig config) : base(config)
    {
        _finalAlphaCumprod = (config.SetAlphaToOne ?? true) ? 1f : Schedule.AlphasCumprod[0];
    }

    public override float InitNoiseSigma => 1f;

    private TimestepSpacing Spacing => Config.TimestepSpacing ?? TimestepSpacing.Leading;

    private protected override void BuildSchedule(int numInferenceSteps)
    {
        TimestepsArray = Schedule.DdimTimesteps(Spacing, numInferenceSteps, Config.StepsOffset).Select(t => (float)t).ToArray();
    }

    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        var t = (int)timestep;
        var prevT = t - Config.NumTrainTimesteps / NumInferenceSteps;
        var alphaProdT = AlphaCumprodAt(t);
        var alphaProdPrev = prevT >= 0 ? Schedule.AlphasCumprod[prevT] : _finalAlphaCumprod;
        var betaProdT = 1f - alphaProdT;
        float sqrtAlpha = MathF.Sqrt(alphaProdT), sqrtBeta = MathF.Sqrt(betaProdT);

        var x0 = new float[sample.Length];
        var eps = new float[sample.Length];
        for (var i = 0; i < sample.Length; i++)
        {
            if (Config.PredictionType == PredictionType.Epsilon)
            {
                x0[i] = (sample[i] - sqrtBeta * modelOutput[i]) / sqrtAlpha;
                eps[i] = modelOutput[i];
            }
            else
            {
                x0[i] = sqrtAlpha * sample[i] - sqrtBeta * modelOutput[i];
                eps[i] = sqrtAlpha * modelOutput[i] + sqrtBeta * sample[i];
            }
        }
        if (Config.ClipSample ?? true) ClampInPlace(x0, Config.ClipSampleRange);

        // η = 0 → σ_t = 0: x_{t−1} = √ᾱ_{t−1}·x0 + √(1 − ᾱ_{t−1})·ε
        var direction = MathF.Sqrt(1f - alphaProdPrev);
        var sqrtAlphaPrev = MathF.Sqrt(alphaProdPrev);
        for (var i = 0; i < sample.Length; i++) sample[i] = sqrtAlphaPrev * x0[i] + direction * eps[i];
    }

    private protected override void AddNoiseCore(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination)
    {
        var alpha = AlphaCumprodAt((int)timestep);
        float a = MathF.Sqrt(alpha), b = MathF.Sqrt(1f - alpha);
        for (var i = 0; i < original.Length; i++) destination[i] = a * original[i] + b * noise[i];
    }

    private float AlphaCumprodAt(int t) =>
        t >= 0 && t < Schedule.AlphasCumprod.Length
            ? Schedule.AlphasCumprod[t]
            : throw new ArgumentOutOfRangeException(nameof(t), t, $"Timestep must be between 0 and {Schedule.AlphasCumprod.Length - 1}.");
}
