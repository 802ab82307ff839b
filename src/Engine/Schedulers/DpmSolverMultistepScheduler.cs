using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// diffusers' <c>DPMSolverMultistepScheduler</c>, solver order 2, midpoint solver, <c>final_sigmas_type = "zero"</c>:
/// <c>dpmsolver++</c> is A1111 "DPM++ 2M", <c>sde-dpmsolver++</c> is "DPM++ 2M SDE" (one noise draw per step).
/// The model output is converted to an x0 prediction and the update runs in log-SNR (λ) space.
/// </summary>
public sealed class DpmSolverMultistepScheduler(SchedulerConfig config) : SchedulerBase(config)
{
    private const int SolverOrder = 2;
    private float[]? _previousX0;
    private int _lowerOrderNums;

    public override float InitNoiseSigma => 1f;

    private bool IsSde => Config.AlgorithmType == DpmSolverAlgorithm.SdeDpmSolverPlusPlus;

    private protected override void BuildSchedule(int numInferenceSteps)
    {
        var trainSigmas = Schedule.TrainSigmas();
        var spacing = Config.TimestepSpacing ?? TimestepSpacing.Linspace;
        var timesteps = Schedule.DpmSolverTimesteps(spacing, numInferenceSteps, Config.StepsOffset);
        double[] sigmas;
        if (Config.UseKarrasSigmas)
        {
            // Karras over the full training range (σ at t = 0 … σ at t = N − 1), timesteps rounded back from σ.
            var logSigmas = NoiseSchedule.LogSigmas(trainSigmas);
            sigmas = NoiseSchedule.KarrasSigmas(trainSigmas[0], trainSigmas[^1], numInferenceSteps);
            timesteps = sigmas.Select(s => (long)Math.Round(NoiseSchedule.SigmaToTimestep(s, logSigmas))).ToArray();
        }
        else
        {
            sigmas = NoiseSchedule.InterpolateSigmas(timesteps.Select(t => (double)t).ToArray(), trainSigmas);
        }
        TimestepsArray = timesteps.Select(t => (float)t).ToArray();
        SigmasArray = [.. sigmas.Select(s => (float)s), 0f];
        _previousX0 = null;
        _lowerOrderNums = 0;
    }

    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        // final_sigmas_type "zero" always ends with a first-order step (σ = 0 makes λ infinite). diffusers'
        // lower_order_second only changes third-order solvers, so order 2 has nothing else to lower.
        var lowerOrderFinal = stepIndex == TimestepsArray.Length - 1;

        var x0 = ConvertModelOutput(modelOutput, sample, SigmasArray[stepIndex]);
        var fresh = IsSde ? DrawNoise(noise, sample.Length) : null;

        if (_lowerOrderNums < 1 || lowerOrderFinal || _previousX0 is null)
        {
            FirstOrderUpdate(x0, stepIndex, sample, fresh);
        }
        else
        {
            SecondOrderUpdate(x0, _previousX0, stepIndex, sample, fresh);
        }
        _previousX0 = x0;
        if (_lowerOrderNums < SolverOrder) _lowerOrderNums++;
    }

    private protected override void AddNoiseCore(ReadOnlySpan<float> original, ReadOnlySpan<float> noise, float timestep, Span<float> destination)
    {
        var (alpha, sigma) = AlphaSigma(SigmasArray[AddNoiseIndex(timestep)]);
        for (var i = 0; i < original.Length; i++) destination[i] = alpha * original[i] + sigma * noise[i];
    }

    // VP form of a k-diffusion σ: α_t = 1/√(σ²+1), σ_t = σ·α_t.
    private static (float Alpha, float Sigma) AlphaSigma(float sigma)
    {
        var alpha = 1f / MathF.Sqrt(sigma * sigma + 1f);
        return (alpha, sigma * alpha);
    }

    private static float Lambda(float alpha, float sigma) => MathF.Log(alpha) - MathF.Log(sigma);

    private float[] ConvertModelOutput(ReadOnlySpan<float> modelOutput, ReadOnlySpan<float> sample, float sigma)
    {
        var (alphaT, sigmaT) = AlphaSigma(sigma);
        var x0 = new float[sample.Length];
        for (var i = 0; i < x0.Length; i++)
        {
            x0[i] = Config.PredictionType == PredictionType.Epsilon
                ? (sample[i] - sigmaT * modelOutput[i]) / alphaT
                : alphaT * sample[i] - sigmaT * modelOutput[i];
        }
        return x0;
    }

    private void FirstOrderUpdate(float[] x0, int stepIndex, Span<float> sample, float[]? noise)
    {
        var (alphaT, sigmaT) = AlphaSigma(SigmasArray[stepIndex + 1]);
        var (alphaS, sigmaS) = AlphaSigma(SigmasArray[stepIndex]);
        var h = Lambda(alphaT, sigmaT) - Lambda(alphaS, sigmaS);
        if (noise is null)
        {
            var a = sigmaT / sigmaS;
            var b = alphaT * (MathF.Exp(-h) - 1f);
            for (var i = 0; i < sample.Length; i++) sample[i] = a * sample[i] - b * x0[i];
        }
        else
        {
            var a = sigmaT / sigmaS * MathF.Exp(-h);
            var b = alphaT * (1f - MathF.Exp(-2f * h));
            var c = sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h));
            for (var i = 0; i < sample.Length; i++) sample[i] = a * sample[i] + b * x0[i] + c * noise[i];
        }
    }

    private void SecondOrderUpdate(float[] m0, float[] m1, int stepIndex, Span<float> sample, float[]? noise)
    {
        var (alphaT, sigmaT) = AlphaSigma(SigmasArray[stepIndex + 1]);
        var (alphaS0, sigmaS0) = AlphaSigma(SigmasArray[stepIndex]);
        var (alphaS1, sigmaS1) = AlphaSigma(SigmasArray[stepIndex - 1]);
        var lambdaT = Lambda(alphaT, sigmaT);
        var lambdaS0 = Lambda(alphaS0, sigmaS0);
        var lambdaS1 = Lambda(alphaS1, sigmaS1);
        var h = lambdaT - lambdaS0;
        var h0 = lambdaS0 - lambdaS1;
        var r0 = h0 / h;
        var inverseR0 = 1f / r0;
        if (noise is null)
        {
            var a = sigmaT / sigmaS0;
            var b = alphaT * (MathF.Exp(-h) - 1f);
            var c = 0.5f * b;
            for (var i = 0; i < sample.Length; i++)
            {
                var d1 = inverseR0 * (m0[i] - m1[i]);
                sample[i] = a * sample[i] - b * m0[i] - c * d1;
            }
        }
        else
        {
            var a = sigmaT / sigmaS0 * MathF.Exp(-h);
            var b = alphaT * (1f - MathF.Exp(-2f * h));
            var c = 0.5f * b;
            var d = sigmaT * MathF.Sqrt(1f - MathF.Exp(-2f * h));
            for (var i = 0; i < sample.Length; i++)
            {
                var d1 = inverseR0 * (m0[i] - m1[i]);
                sample[i] = a * sample[i] + b * m0[i] + c * d1 + d * noise[i];
            }
        }
    }
}
