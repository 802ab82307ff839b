namespace SdBlazor.Web.Generation;

/// <summary>What one job's peak memory depends on. Add fields here (hires factor, upscaler) as the request grows.</summary>
/// <param name="ModelBytes">Size of the model's ONNX files on disk (weights dominate).</param>
/// <param name="ImagesPerUNetBatch">Images denoised together (the UNet runs twice that under CFG).</param>
/// <param name="InitImagePixels">img2img: the init image's own pixel count (decoded before resizing); 0 for txt2img.</param>
/// <param name="FusedAttention">The UNet's attention is ONNX Runtime's fused MultiHeadAttention (memory linear in tokens), not MatMul → Softmax → MatMul (quadratic).</param>
/// <param name="UpscaleFactor">Hook for hires fix / upscalers: the second pass runs at width and height × this (1: none).</param>
public sealed record JobMemoryInput(
    long ModelBytes,
    int Width,
    int Height,
    int ImagesPerUNetBatch,
    bool IsImg2Img,
    long InitImagePixels = 0,
    bool FusedAttention = true,
    double UpscaleFactor = 1);

/// <summary>
/// Coefficients of <see cref="JobMemoryEstimator"/>, in bytes, T = latent tokens, B = images per UNet batch. The
/// defaults are fitted to peak RSS measured on the embedded model (scripts/measure-memory.sh, docs/performance.md
/// "Memory per job"): with fused attention for the linear terms, and with its earlier MatMul → Softmax → MatMul
/// attention for the quadratic one, which only graphs without fused attention pay.
/// </summary>
public sealed record MemoryProfile
{
    /// <summary>Process without a model (runtime, ASP.NET, ONNX Runtime's own) — measured 142 MB with the 17.5 MB embedded model loaded.</summary>
    public long RuntimeBytes { get; init; } = 105L << 20;

    /// <summary>Resident bytes per byte of model file (float16 weights are widened to float32 on the CPU).</summary>
    public double ResidentPerModelByte { get; init; } = 2.0;

    public long JobBytes { get; init; } = 17_600_000;
    public double PerTokenBytes { get; init; } = 36_300;
    public double PerImageTokenBytes { get; init; } = 17_100;

    /// <summary>Per T², whatever the batch (ONNX Runtime's attention workspace at the highest resolution).</summary>
    public double TokenSquaredBytes { get; init; } = 1.56;

    /// <summary>Per image and T², only for MatMul → Softmax → MatMul attention (the score matrices of every head).</summary>
    public double MatMulAttentionPerImageTokenSquaredBytes { get; init; } = 32.6;

    public double Img2ImgPerTokenBytes { get; init; } = 26_000;

    /// <summary>Multiplies the fit (within ±12 % of the measured points from 256² up; small sizes are overestimated).</summary>
    public double SafetyFactor { get; init; } = 1.2;
}

/// <summary>A job's estimated peak resident memory (model included), from <see cref="MemoryProfile"/>.</summary>
public static class JobMemoryEstimator
{
    public static long PeakBytes(JobMemoryInput input, MemoryProfile profile)
    {
        var model = profile.RuntimeBytes + profile.ResidentPerModelByte * input.ModelBytes;
        var job = Pass(input.Width, input.Height, input, profile);
        if (input.UpscaleFactor > 1)
        {
            // The second pass replaces the first (its buffers are released in between); the larger one is the peak.
            job = Math.Max(job, Pass((int)(input.Width * input.UpscaleFactor), (int)(input.Height * input.UpscaleFactor), input, profile));
        }
        // Decoded init image (RGB24 plus ImageSharp's working copy while resizing).
        job += input.InitImagePixels * 6.0;
        var total = model + job * profile.SafetyFactor;
        return total >= long.MaxValue ? long.MaxValue : (long)total;
    }

    private static double Pass(int width, int height, JobMemoryInput input, MemoryProfile p)
    {
        // Latent tokens: the UNet's first attention runs over every latent pixel (1/8 of the image per side).
        var tokens = (double)(width / 8) * (height / 8);
        var images = (double)input.ImagesPerUNetBatch;
        return p.JobBytes + p.PerTokenBytes * tokens + p.PerImageTokenBytes * images * tokens
            + p.TokenSquaredBytes * tokens * tokens
            + (input.FusedAttention ? 0 : p.MatMulAttentionPerImageTokenSquaredBytes * images * tokens * tokens)
            + (input.IsImg2Img ? p.Img2ImgPerTokenBytes * tokens : 0);
    }
}
