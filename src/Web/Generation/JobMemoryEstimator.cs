namespace SdBlazor.Web.Generation;

/// <summary>What one job's peak memory depends on. Add fields here (hires factor, upscaler) as the request grows.</summary>
/// <param name="ModelBytes">Size of the model's ONNX files on disk (weights dominate).</param>
/// <param name="ImagesPerUNetBatch">Images denoised together (the UNet runs twice that under CFG).</param>
/// <param name="InitImagePixels">img2img: the init image's own pixel count (decoded before resizing); 0 for txt2img.</param>
/// <param name="UpscaleFactor">Hook for hires fix / upscalers: the second pass runs at width and height × this (1: none).</param>
public sealed record JobMemoryInput(
    long ModelBytes,
    int Width,
    int Height,
    int ImagesPerUNetBatch,
    bool IsImg2Img,
    long InitImagePixels = 0,
    double UpscaleFactor = 1);

/// <summary>
/// Coefficients of <see cref="JobMemoryEstimator"/>, in bytes. The defaults are fitted to peak RSS measured on the
/// embedded model (scripts/measure-memory.sh, docs/performance.md "Memory per job"): its attention is
/// MatMul → Softmax → MatMul, so memory grows with the square of the latent token count.
/// </summary>
public sealed record MemoryProfile
{
    /// <summary>Process without a model (runtime, ASP.NET, ONNX Runtime's own) — measured 145 MB with the 17.5 MB embedded model loaded.</summary>
    public long RuntimeBytes { get; init; } = 110L << 20;

    /// <summary>Resident bytes per byte of model file (float16 weights are widened to float32 on the CPU).</summary>
    public double ResidentPerModelByte { get; init; } = 2.0;

    public long JobBytes { get; init; } = 6L << 20;
    public double PerTokenBytes { get; init; } = 57_500;
    public double PerImageTokenBytes { get; init; } = 9_500;
    public double PerImageTokenSquaredBytes { get; init; } = 32.6;
    public double Img2ImgPerTokenBytes { get; init; } = 27_500;

    /// <summary>Multiplies the fit (whose error on the measured points is within ±10 %).</summary>
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
            + p.PerImageTokenSquaredBytes * images * tokens * tokens
            + (input.IsImg2Img ? p.Img2ImgPerTokenBytes * tokens : 0);
    }
}
