using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// diffusers' <c>HeunDiscreteScheduler</c> (A1111 "Heun"): an Euler step, then a correction with the derivative at
/// the predicted point. Timesteps hold 2n−1 entries (each but the first twice) and every entry is one model call.
/// </summary>
public sealed class HeunDiscreteScheduler(SchedulerConfig config) : SigmaSchedulerBase(config)
{
    private float[]? _prevDerivative;
    private float[]? _firstOrderSample;
    private float _dt;

    public override int Order => 2;

    private protected override void BuildSchedule(int numInferenceSteps)
    {
        var (timesteps, sigmas) = BuildSigmaSchedule(numInferenceSteps);
        var t = ToFloat(timesteps);
        var s = ToFloat(sigmas);
        // sigmas: [σ0, σ1, σ1, …, σn−1, σn−1, 0]; timesteps: [t0, t1, t1, …, tn−1, tn−1]
        SigmasArray = [s[0], .. s[1..^1].SelectMany(x => new[] { x, x }), s[^1]];
        TimestepsArray = [t[0], .. t[1..].SelectMany(x => new[] { x, x })];
        _prevDerivative = null;
        _firstOrderSample = null;
    }

    private bool InFirstOrder => _prevDerivative is null;

    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        float sigma, sigmaNext;
        if (InFirstOrder)
        {
            sigma = SigmasArray[stepIndex];
            sigmaNext = SigmasArray[stepIndex + 1];
        }
        else
        {
            sigma = SigmasArray[stepIndex - 1];
            sigmaNext = SigmasArray[stepIndex];
        }
        var sigmaHat = sigma; // gamma = 0
        var sigmaInput = InFirstOrder ? sigmaHat : sigmaNext;
        var x0 = new float[sample.Length];
        PredictOriginal(modelOutput, sample, sigmaInput, x0);
        if (Config.ClipSample == true) ClampInPlace(x0, Config.ClipSampleRange);

        if (InFirstOrder)
        {
            var derivative = new float[sample.Length];
            for (var i = 0; i < sample.Length; i++) derivative[i] = (sample[i] - x0[i]) / sigmaHat;
            _dt = sigmaNext - sigmaHat;
            _prevDerivative = derivative;
            _firstOrderSample = sample.ToArray();
            for (var i = 0; i < sample.Length; i++) sample[i] += derivative[i] * _dt;
        }
        else
        {
            var start = _firstOrderSample!;
            for (var i = 0; i < sample.Length; i++)
            {
                var derivative = (sample[i] - x0[i]) / sigmaNext;
                derivative = (_prevDerivative![i] + derivative) / 2f;
                sample[i] = start[i] + derivative * _dt;
            }
            _prevDerivative = null;
            _firstOrderSample = null;
        }
    }
}
