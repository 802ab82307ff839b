using SdBlazor.Engine.Randomness;

namespace SdBlazor.Engine.Schedulers;

/// <summary>
/// diffusers' <c>LMSDiscreteScheduler</c> (A1111 "LMS"): linear multistep of order 4 over the last derivatives.
/// diffusers integrates the Lagrange basis polynomial with <c>scipy.integrate.quad</c>; the integrand is a polynomial
/// of degree ≤ 3, so 4-point Gauss–Legendre quadrature gives the same coefficient exactly.
/// </summary>
public sealed class LmsDiscreteScheduler(SchedulerConfig config) : SigmaSchedulerBase(config)
{
    private const int MaxOrder = 4;
    private readonly List<float[]> _derivatives = [];

    private protected override void BuildSchedule(int numInferenceSteps)
    {
        base.BuildSchedule(numInferenceSteps);
        _derivatives.Clear();
    }

    private protected override void StepCore(ReadOnlySpan<float> modelOutput, int stepIndex, float timestep, Span<float> sample,
        IReadOnlyList<TorchGenerator>? noise)
    {
        var sigma = SigmasArray[stepIndex];
        var x0 = Scratch(0, sample.Length);
        PredictOriginal(modelOutput, sample, sigma, x0);
        // Keep the last MaxOrder derivatives; the oldest one's array is recycled for the newest.
        float[] derivative;
        if (_derivatives.Count >= MaxOrder && _derivatives[0].Length == sample.Length)
        {
            derivative = _derivatives[0];
            _derivatives.RemoveAt(0);
        }
        else derivative = new float[sample.Length];
        for (var i = 0; i < sample.Length; i++) derivative[i] = (sample[i] - x0[i]) / sigma;
        _derivatives.Add(derivative);
        if (_derivatives.Count > MaxOrder) _derivatives.RemoveAt(0);

        // diffusers' rule: the order is min(step_index + 1, 4) counted from the start of the whole schedule, and the
        // coefficients of that order are paired with the derivatives held, newest first (Python's zip stops at the
        // shorter list). An img2img run starting part-way thus uses high-order coefficients with fewer derivatives
        // for its first steps; that is what diffusers (and images made with it) do, so we do the same.
        var order = Math.Min(stepIndex + 1, MaxOrder);
        var terms = Math.Min(order, _derivatives.Count);
        var sum = Scratch(1, sample.Length);
        Array.Clear(sum);
        for (var currentOrder = 0; currentOrder < terms; currentOrder++)
        {
            var coefficient = (float)LmsCoefficient(order, stepIndex, currentOrder);
            var d = _derivatives[_derivatives.Count - 1 - currentOrder];
            for (var i = 0; i < sum.Length; i++) sum[i] += coefficient * d[i];
        }
        for (var i = 0; i < sample.Length; i++) sample[i] += sum[i];
    }

    // ∫_{σ_t}^{σ_{t+1}} Π_{k≠j} (τ − σ_{t−k}) / (σ_{t−j} − σ_{t−k}) dτ
    private double LmsCoefficient(int order, int t, int currentOrder)
    {
        double Basis(double tau)
        {
            var product = 1.0;
            for (var k = 0; k < order; k++)
            {
                if (k == currentOrder) continue;
                product *= (tau - SigmasArray[t - k]) / ((double)SigmasArray[t - currentOrder] - SigmasArray[t - k]);
            }
            return product;
        }

        double a = SigmasArray[t], b = SigmasArray[t + 1];
        var half = (b - a) / 2;
        var mid = (a + b) / 2;
        var sum = 0.0;
        for (var i = 0; i < GaussNodes.Length; i++) sum += GaussWeights[i] * Basis(mid + half * GaussNodes[i]);
        return sum * half;
    }

    private static readonly double[] GaussNodes =
        [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526];

    private static readonly double[] GaussWeights =
        [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538];
}
