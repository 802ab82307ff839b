using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// A1111's rule for SD 2.x checkpoints that say nothing about their prediction type
/// (<c>is_using_v_parameterization_for_sd2</c> in <c>modules/sd_models_config.py</c>): run the UNet once on a constant
/// input (latents of 0.5, 8×8, timestep 999, a context of 0.5) and call it v-prediction when the output minus the input
/// averages below −1. An epsilon model predicts noise of about unit variance around zero there; a v model predicts
/// roughly −x₀ scaled up at t = 999, far below. A1111 uses two context tokens; with every token equal, cross-attention
/// gives the same result for any count, so the graph's usual 77 are used.
/// </summary>
public static class VPredictionProbe
{
    public const int Size = 8;
    public const int Timestep = 999;

    /// <summary>The mean of (UNet output − input) for A1111's test input; v-prediction when below −1.</summary>
    public static double MeanOffset(string unetPath, int hiddenSize)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(unetPath, options);
        var sampleName = session.InputMetadata.Keys.FirstOrDefault(k => k == "sample") ?? session.InputMetadata.Keys.First();
        var sample = Enumerable.Repeat(0.5f, 4 * Size * Size).ToArray();
        var context = Enumerable.Repeat(0.5f, 77 * hiddenSize).ToArray();
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor(sampleName, new DenseTensor<float>(sample, [1, 4, Size, Size])),
            NamedOnnxValue.CreateFromTensor("encoder_hidden_states", new DenseTensor<float>(context, [1, 77, hiddenSize])),
        };
        var timestep = session.InputMetadata["timestep"];
        var timestepShape = timestep.Dimensions.Length == 0 ? Array.Empty<int>() : [1];
        inputs.Add(timestep.ElementType == typeof(long)
            ? NamedOnnxValue.CreateFromTensor("timestep", new DenseTensor<long>(new long[] { Timestep }, timestepShape))
            : NamedOnnxValue.CreateFromTensor("timestep", new DenseTensor<float>(new float[] { Timestep }, timestepShape)));
        foreach (var (name, meta) in session.InputMetadata)
        {
            if (inputs.Any(i => i.Name == name)) continue;
            throw new NotSupportedException($"the UNet has an input '{name}' the v-prediction test does not know.");
        }
        using var results = session.Run(inputs);
        var output = results[0].AsEnumerable<float>().ToArray();
        var sum = 0.0;
        for (var i = 0; i < output.Length; i++) sum += output[i] - 0.5;
        return sum / output.Length;
    }

    public static PredictionType Decide(double meanOffset) => meanOffset < -1 ? PredictionType.V : PredictionType.Epsilon;
}
