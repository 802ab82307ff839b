using System.Text.Json;
using static SdBlazor.Engine.Tests.TestModels.OnnxBuilder;

namespace SdBlazor.Engine.Tests.TestModels;

public enum TimestepLayout { One, Batch, Scalar }

public enum VaeEncoderKind { None, LatentSample, LatentParameters }

/// <summary>What the tiny model folder looks like.</summary>
public sealed record TinyModelOptions
{
    public bool Float16 { get; init; }
    public bool Int64Timestep { get; init; }
    public TimestepLayout Timestep { get; init; } = TimestepLayout.One;
    public bool Int64InputIds { get; init; }
    public VaeEncoderKind VaeEncoder { get; init; } = VaeEncoderKind.LatentParameters;
    public string PadToken { get; init; } = "<|endoftext|>";
    /// <summary>Latent size in unet/config.json (native pixels = 8×); null writes no config.json.</summary>
    public int? SampleSize { get; init; } = 8;
    public float? ScalingFactor { get; init; }
    public string? LatentPreviewJson { get; init; }
    /// <summary>Adds this many chained 512×512 MatMuls to the UNet (result × 0), to make one run slow enough to abort mid-way.</summary>
    public int SlowUNetMatMuls { get; init; }
    /// <summary>The UNet's token axis is symbolic ("sequence"), as in diffusers exports: long prompts reach it as 77 × chunks.</summary>
    public bool DynamicTokens { get; init; }
}

/// <summary>
/// A complete model folder in the diffusers ONNX layout with tiny, input-dependent graphs:
/// text encoder = embedding lookup; UNet = 0.5·sample + 0.1·sin(sample) + mean(hidden states) + 0.001·timestep;
/// VAE decoder = 1×1 conv to RGB, ×8 nearest upsample, tanh; VAE encoder = 8×8 average pool + 1×1 conv.
/// </summary>
public static class TinyModel
{
    public const int Hidden = 8;

    public static string Create(string parent, string name = "tiny", TinyModelOptions? options = null)
    {
        options ??= new TinyModelOptions();
        var root = Path.Combine(parent, name);
        Directory.CreateDirectory(root);
        File.WriteAllText(Path.Combine(root, "model_index.json"), """{"_class_name": "OnnxStableDiffusionPipeline", "_diffusers_version": "0.30.0"}""");
        TinyClipVocabulary.Write(Path.Combine(root, "tokenizer"), options.PadToken);
        Directory.CreateDirectory(Path.Combine(root, "scheduler"));
        File.WriteAllText(Path.Combine(root, "scheduler", "scheduler_config.json"), SchedulerConfigJson);

        TextEncoder(options).Save(Path.Combine(root, "text_encoder", "model.onnx"));
        UNet(options).Save(Path.Combine(root, "unet", "model.onnx"));
        if (options.SampleSize is { } size)
            File.WriteAllText(Path.Combine(root, "unet", "config.json"), JsonSerializer.Serialize(new { sample_size = size, in_channels = 4 }));
        VaeDecoder(options).Save(Path.Combine(root, "vae_decoder", "model.onnx"));
        if (options.ScalingFactor is { } factor)
            File.WriteAllText(Path.Combine(root, "vae_decoder", "config.json"), JsonSerializer.Serialize(new { scaling_factor = factor }));
        if (options.VaeEncoder != VaeEncoderKind.None) VaeEncoder(options).Save(Path.Combine(root, "vae_encoder", "model.onnx"));
        if (options.LatentPreviewJson is { } preview) File.WriteAllText(Path.Combine(root, "latent_preview.json"), preview);
        return root;
    }

    /// <summary>Stable Diffusion 1.5's scheduler config (as shipped, PNDM class).</summary>
    public const string SchedulerConfigJson = """
        {
          "_class_name": "PNDMScheduler",
          "_diffusers_version": "0.6.0",
          "beta_end": 0.012,
          "beta_schedule": "scaled_linear",
          "beta_start": 0.00085,
          "num_train_timesteps": 1000,
          "set_alpha_to_one": false,
          "skip_prk_steps": true,
          "steps_offset": 1,
          "trained_betas": null,
          "clip_sample": false
        }
        """;

    private static int FloatType(TinyModelOptions o) => o.Float16 ? Float16 : Float;

    private static OnnxBuilder TextEncoder(TinyModelOptions o)
    {
        var b = new OnnxBuilder()
            .Input("input_ids", o.Int64InputIds ? Int64Type : Int32Type, "batch", 77)
            .Output("last_hidden_state", FloatType(o), "batch", 77, Hidden);
        var vocab = TinyClipVocabulary.Tokens.Count;
        var table = new float[vocab * Hidden];
        for (var i = 0; i < vocab; i++)
            for (var j = 0; j < Hidden; j++) table[i * Hidden + j] = MathF.Sin(0.37f * i + 1.3f * j);
        var embeddings = b.FloatConstant(table, vocab, Hidden);
        var gathered = b.Node("Gather", [embeddings, "input_ids"], ("axis", 0L));
        Finish(b, o, gathered, "last_hidden_state");
        return b;
    }

    private static OnnxBuilder UNet(TinyModelOptions o)
    {
        object[] timestepDims = o.Timestep switch
        {
            TimestepLayout.Scalar => [],
            TimestepLayout.Batch => ["batch"],
            _ => [1],
        };
        var b = new OnnxBuilder()
            .Input("sample", FloatType(o), "batch", 4, "height", "width")
            .Input("timestep", o.Int64Timestep ? Int64Type : (o.Float16 ? Float16 : Float), timestepDims)
            .Input("encoder_hidden_states", FloatType(o), "batch", o.DynamicTokens ? "sequence" : 77, Hidden)
            .Output("out_sample", FloatType(o), "batch", 4, "height", "width");
        var sample = ToFloat(b, o.Float16, "sample");
        var hidden = ToFloat(b, o.Float16, "encoder_hidden_states");
        var t = b.Node("Cast", ["timestep"], ("to", (long)Float));

        var ctx = b.Node("ReduceMean", [hidden], ("axes", new long[] { 1, 2 }), ("keepdims", 1L));
        var ctx4 = b.Node("Reshape", [ctx, b.LongConstant(-1, 1, 1, 1)]);
        var t4 = b.Node("Reshape", [t, b.LongConstant(-1, 1, 1, 1)]);
        var half = b.Node("Mul", [sample, b.FloatConstant([0.5f])]);
        var wave = b.Node("Mul", [b.Node("Sin", [sample]), b.FloatConstant([0.1f])]);
        var sum = b.Node("Add", [b.Node("Add", [half, wave]), ctx4]);
        var result = b.Node("Add", [sum, b.Node("Mul", [t4, b.FloatConstant([0.001f])])]);
        if (o.SlowUNetMatMuls > 0)
        {
            // Depends on the input so ONNX Runtime cannot constant-fold it; tanh keeps it finite; × 0 keeps the output unchanged.
            const int n = 512;
            var w = b.FloatConstant(Enumerable.Range(0, n * n).Select(i => MathF.Sin(i) * 0.05f).ToArray(), n, n);
            var x = b.Node("Add", [w, b.Node("ReduceMean", [sample], ("keepdims", 0L))]);
            for (var i = 0; i < o.SlowUNetMatMuls; i++) x = b.Node("Tanh", [b.Node("MatMul", [x, w])]);
            var zero = b.Node("Mul", [b.Node("ReduceMean", [x], ("keepdims", 0L)), b.FloatConstant([0f])]);
            result = b.Node("Add", [result, zero]);
        }
        Finish(b, o, result, "out_sample");
        return b;
    }

    private static OnnxBuilder VaeDecoder(TinyModelOptions o)
    {
        var b = new OnnxBuilder()
            .Input("latent_sample", FloatType(o), "batch", 4, "height", "width")
            .Output("sample", FloatType(o), "batch", 3, "image_height", "image_width");
        var latents = ToFloat(b, o.Float16, "latent_sample");
        var weights = b.FloatConstant([0.3f, 0.2f, -0.1f, -0.2f, 0.1f, 0.4f, 0.1f, -0.2f, 0.2f, -0.1f, 0.3f, -0.6f], 3, 4, 1, 1);
        var rgb = b.Node("Conv", [latents, weights]);
        var scales = b.FloatConstant([1f, 1f, 8f, 8f], 4);
        var up = b.Node("Resize", [rgb, "", scales], ("mode", "nearest"));
        Finish(b, o, b.Node("Tanh", [up]), "sample");
        return b;
    }

    private static OnnxBuilder VaeEncoder(TinyModelOptions o)
    {
        var parameters = o.VaeEncoder == VaeEncoderKind.LatentParameters;
        var channels = parameters ? 8 : 4;
        var output = parameters ? "latent_parameters" : "latent_sample";
        var b = new OnnxBuilder()
            .Input("sample", FloatType(o), "batch", 3, "height", "width")
            .Output(output, FloatType(o), "batch", channels, "latent_height", "latent_width");
        var image = ToFloat(b, o.Float16, "sample");
        var pooled = b.Node("AveragePool", [image], ("kernel_shape", new long[] { 8, 8 }), ("strides", new long[] { 8, 8 }));
        var weights = new float[channels * 3];
        for (var i = 0; i < weights.Length; i++) weights[i] = 0.5f * MathF.Cos(i);
        var bias = new float[channels];
        // log-variance channels around −4 (std ≈ 0.14) so sampling visibly but mildly perturbs the mean.
        for (var c = 4; c < channels; c++) bias[c] = -4f;
        var conv = b.Node("Conv", [pooled, b.FloatConstant(weights, channels, 3, 1, 1), b.FloatConstant(bias, channels)]);
        Finish(b, o, conv, output);
        return b;
    }

    private static string ToFloat(OnnxBuilder b, bool fp16, string input) =>
        fp16 ? b.Node("Cast", [input], ("to", (long)Float)) : input;

    private static void Finish(OnnxBuilder b, TinyModelOptions o, string value, string output) =>
        b.NodeTo(o.Float16 ? "Cast" : "Identity", [value], output, o.Float16 ? [("to", (long)Float16)] : []);
}
