using System.Diagnostics;
using SdBlazor.Engine.Pipelines;

namespace SdBlazor.Bench;

/// <summary>Times each step from one progress call to the next; renders a JPEG preview per step when <paramref name="previewTimes"/> is set.</summary>
public sealed class StepTimer(List<double>? previewTimes) : IStepProgressSink
{
    private readonly List<double> _steps = [];
    private TimeSpan? _last;

    /// <summary>Milliseconds from the start of the generation to the first step's callback (prompt encoding + first step).</summary>
    public double FirstCallbackMilliseconds { get; private set; }

    public IReadOnlyList<double> Steps => _steps;

    public void OnStep(in StepProgress progress)
    {
        if (previewTimes is not null)
        {
            var sw = Stopwatch.StartNew();
            progress.Previewer.RenderJpeg(progress.Latents.Span, 0, progress.LatentHeight, progress.LatentWidth);
            previewTimes.Add(sw.Elapsed.TotalMilliseconds);
        }
        // Elapsed is taken before this callback, so a step's time includes the previous step's preview.
        if (_last is { } last) _steps.Add((progress.Elapsed - last).TotalMilliseconds);
        else FirstCallbackMilliseconds = progress.Elapsed.TotalMilliseconds;
        _last = progress.Elapsed;
    }

    public double MedianStepMilliseconds() => Stats.Median(_steps);
}

public static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>"+1.23 %": how much <paramref name="value"/> exceeds <paramref name="reference"/>.</summary>
    public static string Over(double value, double reference) => $"{100 * (value - reference) / reference:+0.00;-0.00} %";
}
