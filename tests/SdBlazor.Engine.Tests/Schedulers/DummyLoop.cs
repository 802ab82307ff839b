using SdBlazor.Engine.Randomness;
using SdBlazor.Engine.Schedulers;

namespace SdBlazor.Engine.Tests.Schedulers;

/// <summary>
/// The goldens' dummy denoising loop: a fixed [1,4,8,8] sample, a "model" returning x · 0.1·t/1000, and for
/// stochastic samplers one torch generator seeded 0 passed to every step.
/// </summary>
internal static class DummyLoop
{
    public const int Size = 256;

    public static float[] InitialSample() =>
        Enumerable.Range(0, Size).Select(i => (float)((7 * i % 17) / 8.0 - 1)).ToArray();

    public static DenoiseCallback Model => (input, t, output) =>
    {
        var factor = (float)(0.1 * t / 1000);
        for (var i = 0; i < input.Length; i++) output[i] = input[i] * factor;
    };

    public sealed record Result(float[] Final, List<double> SumAfterEachStep, int ModelCalls);

    public static Result Run(IScheduler scheduler, int steps, ulong? noiseSeed)
    {
        scheduler.SetTimesteps(steps);
        var latents = InitialSample();
        for (var i = 0; i < latents.Length; i++) latents[i] *= scheduler.InitNoiseSigma;
        IReadOnlyList<TorchGenerator>? generators = noiseSeed is { } seed ? [new TorchGenerator(seed)] : null;

        var input = new float[Size];
        var output = new float[Size];
        var sums = new List<double>();
        var calls = 0;
        foreach (var t in scheduler.Timesteps.ToArray())
        {
            scheduler.ScaleModelInput(latents, t, input);
            Model(input, t, output);
            calls++;
            scheduler.Step(output, t, latents, generators);
            sums.Add(latents.Sum(v => (double)v));
        }
        return new Result(latents, sums, calls);
    }
}
