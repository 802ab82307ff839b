using SdBlazor.Engine.Onnx;

namespace SdBlazor.Bench;

/// <param name="ModelPath">With a model: the real-scale benchmark on it (<see cref="ModelBenchmark"/>); without: the tiny-graph step suite.</param>
/// <param name="Size">Pixels (square); null: the model's native size.</param>
/// <param name="BareRuns">Bare UNet calls to time (median); null: as many as steps.</param>
/// <param name="SaveImagePath">With a model: where to write the first image as PNG (to compare two exports of the same weights).</param>
public sealed record BenchOptions(
    string? ModelPath,
    int Steps,
    int Threads,
    int Repeats,
    int? Size = null,
    int? BareRuns = null,
    bool MemoryPattern = false,
    bool Previews = true,
    bool WarmUpPhase = true,
    ExecutionProviderKind Provider = ExecutionProviderKind.Auto,
    int DeviceId = 0,
    string? SaveImagePath = null,
    bool ProfileUNet = false,
    string? OptimizedCachePath = null,
    bool OptimizedCache = true,
    string Sampler = "Euler",
    string? CheckpointPath = null,
    string? CheckpointCachePath = null,
    bool PeakRss = false,
    int Batch = 1,
    bool Img2Img = false,
    string? ConvertFor = null,
    bool FirstImageOnly = false,
    string? LoraPath = null,
    double Cfg = 7.5,
    int? RunSteps = null,
    string? Series = null)
{
    public const string Usage = """
        usage: SdBlazor.Bench [--model <model folder>] [--size PX] [--steps N] [--threads N] [--repeats N]
                              [--bare-runs N] [--memory-pattern on|off] [--previews on|off] [--warmup-phase on|off]
                              [--provider auto|cpu|cuda|directml] [--device-id N] [--save-image FILE.png]
                              [--profile-unet] [--optimized-cache DIR|off] [--sampler NAME]
                              [--import-checkpoint FILE.safetensors [--checkpoint-cache DIR] [--convert-for cpu|cuda|directml]]
                              [--peak-rss [--batch N] [--img2img] [--cfg X] [--run-steps N] [--series SIZE:CFG:STEPS,…]] [--first-image-only] [--lora FILE.safetensors [--checkpoint-cache DIR]]
          without --model: per-step overhead on tiny test graphs and models/sdblazor-mini
          with --model:    the real-scale report (session creation, first vs warm image, bare ONNX Runtime calls, memory)
          --profile-unet:  with --model, instead of the report: one bare UNet call profiled by ONNX Runtime, time and
                           GFLOP by op type, against the rate ONNX Runtime's Conv and MatMul kernels reach on this machine
          --sampler:       with --model, the sampler of every generation (default Euler), e.g. "DPM++ 2M"
          --import-checkpoint: first use (header, detection, conversion to the diffusers-ONNX cache) of a single-file
                           checkpoint with the shipped graph sets, then a second use from the cache: time and peak RSS;
                           --convert-for: convert as for that provider (cuda/directml keep an fp16 file fp16), default --provider's
          --peak-rss:      with --model, one 2-step generation at --size and --batch (txt2img, or img2img): RSS after
                           loading and the run's peak, one line (scripts/measure-memory.sh runs the whole curve);
                           --run-steps N (1 or more) and --cfg X instead: N steps at CFG X, with the load time, each
                           step's time and the image time on a second line (few-step models at CFG 1, SDXL sizes);
                           --series SIZE:CFG:STEPS,… runs each in turn on one load (peak RSS reset between them)
          --first-image-only: with --model, only session creation and one image on the cold sessions (A/B runs)
          --lora:          with --model, LoRA switch time: merge into a cached variant, first and cached switch, back
                           to the base (tools/make_lora writes a random kohya LoRA for a folder); --checkpoint-cache: where variants go
          --optimized-cache: where the engine keeps optimised graphs (default: the engine's, .cache/ort-optimized in a checkout)
        """;

    public static BenchOptions? Parse(string[] args)
    {
        var o = new BenchOptions(null, 20, 0, 3);
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--profile-unet") { o = o with { ProfileUNet = true }; continue; }
            if (args[i] == "--peak-rss") { o = o with { PeakRss = true }; continue; }
            if (args[i] == "--first-image-only") { o = o with { FirstImageOnly = true }; continue; }
            if (args[i] == "--img2img") { o = o with { Img2Img = true }; continue; }
            var value = i + 1 < args.Length ? args[i + 1] : null;
            int n;
            switch (args[i])
            {
                case "--import-checkpoint" when value is not null: o = o with { CheckpointPath = Path.GetFullPath(value) }; break;
                case "--convert-for" when value is "cpu" or "cuda" or "directml":
                    o = o with { ConvertFor = value switch { "cuda" => SessionFactory.Cuda, "directml" => SessionFactory.DirectML, _ => SessionFactory.Cpu } };
                    break;
                case "--checkpoint-cache" when value is not null: o = o with { CheckpointCachePath = Path.GetFullPath(value) }; break;
                case "--lora" when value is not null: o = o with { LoraPath = Path.GetFullPath(value) }; break;
                case "--model" when value is not null: o = o with { ModelPath = Path.GetFullPath(value) }; break;
                case "--steps" when int.TryParse(value, out n) && n > 1: o = o with { Steps = n }; break;
                case "--threads" when int.TryParse(value, out n) && n >= 0: o = o with { Threads = n }; break;
                case "--repeats" when int.TryParse(value, out n) && n > 0: o = o with { Repeats = n }; break;
                case "--size" when int.TryParse(value, out n) && n >= 64 && n % 8 == 0: o = o with { Size = n }; break;
                case "--batch" when int.TryParse(value, out n) && n is >= 1 and <= 8: o = o with { Batch = n }; break;
                case "--series" when value is not null: o = o with { Series = value }; break;
                case "--run-steps" when int.TryParse(value, out n) && n >= 1: o = o with { RunSteps = n }; break;
                case "--cfg" when double.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var cfg) && cfg is >= 1 and <= 30: o = o with { Cfg = cfg }; break;
                case "--bare-runs" when int.TryParse(value, out n) && n > 0: o = o with { BareRuns = n }; break;
                case "--memory-pattern" when OnOff(value) is { } on: o = o with { MemoryPattern = on }; break;
                case "--previews" when OnOff(value) is { } on: o = o with { Previews = on }; break;
                case "--warmup-phase" when OnOff(value) is { } on: o = o with { WarmUpPhase = on }; break;
                case "--device-id" when int.TryParse(value, out n) && n >= 0: o = o with { DeviceId = n }; break;
                case "--save-image" when value is not null: o = o with { SaveImagePath = Path.GetFullPath(value) }; break;
                case "--optimized-cache" when value == "off": o = o with { OptimizedCache = false }; break;
                case "--optimized-cache" when value is not null: o = o with { OptimizedCachePath = Path.GetFullPath(value) }; break;
                case "--sampler" when SdBlazor.Shared.GenerationLimits.Samplers.Contains(value): o = o with { Sampler = value! }; break;
                case "--provider" when Enum.TryParse<ExecutionProviderKind>(value, true, out var p): o = o with { Provider = p }; break;
                default: return null;
            }
            i++;
        }
        return o;
    }

    private static bool? OnOff(string? value) => value switch { "on" => true, "off" => false, _ => null };
}
