namespace SdBlazor.Engine.Schedulers;

/// <summary>How img2img strength turns into a start index, as diffusers' <c>StableDiffusionImg2ImgPipeline.get_timesteps</c> does.</summary>
public static class ImageToImage
{
    /// <summary>
    /// Index into <see cref="IScheduler.Timesteps"/> where denoising starts: <c>(n − min(⌊n·strength⌋, n)) · order</c>.
    /// Strength 1 starts at 0 (all steps); strength 0 starts past the end (no steps).
    /// </summary>
    public static int StartIndex(int numInferenceSteps, double strength, int order)
    {
        if (strength is < 0 or > 1 || double.IsNaN(strength))
        {
            throw new ArgumentOutOfRangeException(nameof(strength), strength, "Strength must be between 0 and 1.");
        }
        var initTimestep = Math.Min((int)(numInferenceSteps * strength), numInferenceSteps);
        var tStart = Math.Max(numInferenceSteps - initTimestep, 0);
        return tStart * order;
    }
}
