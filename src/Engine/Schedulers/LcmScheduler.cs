using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// diffusers' <c>LCMScheduler</c> for latent consistency models: timesteps are picked from the distillation
/// schedule (every N / original_inference_steps-th timestep), each step predicts x0 with the consistency boundary
/// condition and re-noises it to the next timestep with fresh noise (not after the last step).
/// Class defaults (when the config leaves them out): scaled_linear 0.00085…0.012, set_alpha_to_one true, clip_sample false.
/// </summary>
public sealed class LcmScheduler : SchedulerBase
{
    private const double SigmaData = 0.5;
    private readonly float _finalAlphaCumprod;

    public LcmScheduler(SchedulerConfig config) : base(config, BetaSchedule.ScaledLinear, 0.00085, 0.012)
    {
        _finalAlphaCumprod = (config.SetAlphaToOne ?? true) ? 1f : Schedule.AlphasCumprod[0];
    }

    public override float InitNoiseSigma => 1f;

    private protected override void BuildSchedule(int numInferenceSteps)
    {
        var originalSteps = Config.OriginalInferenceSteps;
        if (originalSteps > Config.NumTrainTimesteps)
        {
            throw new InvalidDataException(
                $"original_inference_steps ({originalSteps}) cannot exceed num_train_timesteps ({Config.NumTrainTimesteps}).");
        }
        if (numInferenceSteps > originalSteps)
        {
            throw new ArgumentOutOfRangeException(nameof(numInferenceSteps), numInferenceSteps,
                $"LCM can take at most {originalSteps} steps (original_inference_steps).");
        }
        var k = Config.NumTrainTimesteps / originalSteps;
        // lcm_origin_timesteps = [1..originalSteps]·k − 1, reversed; then evenly spaced indices (floor of linspace without endpoint).
        var origin = Enumerable.Range(1, originalSteps).Select(i => i * k - 1).Reverse().ToArray();
        TimestepsArray = Enumerable.Range(0, numInferenceSteps)
            .Select(i => (float)origin[(int)Math.Floor(i * ((double)origin.Length / numInferenceSteps))])
            .ToArray();
    }

    /// <summary>c_skip and c_out of the consistency boundary condition at <paramref name="timestep"/>.</summary>
    internal (float Skip, float Out) BoundaryScalings(float timestep)
    {
        var scaled = timestep * (float)Config.TimestepScaling;
        var skip = (float)(SigmaData * SigmaData) / (scaled * scaled + (float)(SigmaData * SigmaData));
        var output = scaled / MathF.Sqrt(scaled * scaled + (float)(SigmaData * SigmaData));
        return (skip, output);
    }

    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        var prevIndex = stepIndex + 1;
        var prevT = prevIndex < TimestepsArray.Length ? (int)TimestepsArray[prevIndex] : (int)timestep;
        var alphaProdT = Schedule.AlphasCumprod[(int)timestep];
        var alphaProdPrev = prevT >= 0 ? Schedule.AlphasCumprod[prevT] : _finalAlphaCumprod;
        float sqrtAlpha = MathF.Sqrt(alphaProdT), sqrtBeta = MathF.Sqrt(1f - alphaProdT);
        var (cSkip, cOut) = BoundaryScalings(timestep);

        var denoised = new float[sample.Length];
        for (var i = 0; i < sample.Length; i++)
        {
            denoised[i] = Config.PredictionType == PredictionType.Epsilon
                ? (sample[i] - sqrtBeta * modelOutput[i]) / sqrtAlpha
                : sqrtAlpha * sample[i] - sqrtBeta * modelOutput[i];
        }
        if (Config.ClipSample == true) ClampInPlace(denoised, Config.ClipSampleRange);
        for (var i = 0; i < sample.Length; i++) denoised[i] = cOut * denoised[i] + cSkip * sample[i];

        if (stepIndex != NumInferenceSteps - 1)
        {
            var fresh = DrawNoise(noise, sample.Length);
            float a = MathF.Sqrt(alphaProdPrev), b = MathF.Sqrt(1f - alphaProdPrev);
            for (var i = 0; i < sample.Length; i++) sample[i] = a * denoised[i] + b * fresh[i];
        }
        else
        {
            denoised.CopyTo(sample);
        }
    }

    private protected override void AddNoiseCore(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination)
    {
        var alpha = Schedule.AlphasCumprod[(int)timestep];
        float a = MathF.Sqrt(alpha), b = MathF.Sqrt(1f - alpha);
        for (var i = 0; i < original.Length; i++) destination[i] = a * original[i] + b * noise[i];
    }
}
