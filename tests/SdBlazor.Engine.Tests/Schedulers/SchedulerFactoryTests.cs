using SdBlazor.Engine.Pipelines;
using SdBlazor.Engine.Schedulers;
using static SdBlazor.Engine.Tests.Schedulers.SchedulerTestConfigs;

namespace SdBlazor.Engine.Tests.Schedulers;

public class SchedulerFactoryTests
{
    [Theory]
    [InlineData("Euler", "Automatic", typeof(EulerDiscreteScheduler))]
    [InlineData("euler a", "automatic", typeof(EulerAncestralDiscreteScheduler))]
    [InlineData("DDIM", null, typeof(DdimScheduler))]
    [InlineData("LMS", "Karras", typeof(LmsDiscreteScheduler))]
    [InlineData("Heun", "Automatic", typeof(HeunDiscreteScheduler))]
    [InlineData("DPM++ 2M", "Automatic", typeof(DpmSolverMultistepScheduler))]
    [InlineData("DPM++ 2M SDE", "Automatic", typeof(DpmSolverMultistepScheduler))]
    [InlineData("LCM", "Automatic", typeof(LcmScheduler))]
    public void Maps_a1111_names_to_diffusers_classes(string sampler, string? schedule, Type expected) =>
        Assert.IsType(expected, SchedulerFactory.Create(sampler, schedule, Sd15));

    [Theory]
    [InlineData("DPM++ 2M Karras", "Automatic", "DPM++ 2M", "Karras")]
    [InlineData("dpm++ 2m sde karras", null, "DPM++ 2M SDE", "Karras")]
    [InlineData("  Euler a ", "KARRAS", "Euler a", "Karras")]
    [InlineData("LMS Karras", "Karras", "LMS", "Karras")]
    public void Resolves_old_combined_spellings(string sampler, string? schedule, string expectedSampler, string expectedSchedule) =>
        Assert.Equal(new SamplerChoice(expectedSampler, expectedSchedule), SchedulerFactory.Resolve(sampler, schedule));

    [Fact]
    public void Combined_karras_spelling_builds_the_karras_schedule()
    {
        var combined = SchedulerFactory.Create("DPM++ 2M Karras", "Automatic", Sd15);
        var split = SchedulerFactory.Create("DPM++ 2M", "Karras", Sd15);
        combined.SetTimesteps(20);
        split.SetTimesteps(20);
        Assert.Equal(split.Sigmas, combined.Sigmas);
        Assert.True(combined.Config.UseKarrasSigmas);
    }

    [Fact]
    public void Sde_variant_selects_the_sde_algorithm()
    {
        Assert.Equal(DpmSolverAlgorithm.SdeDpmSolverPlusPlus, SchedulerFactory.Create("DPM++ 2M SDE", null, Sd15).Config.AlgorithmType);
        Assert.Equal(DpmSolverAlgorithm.DpmSolverPlusPlus,
            SchedulerFactory.Create("DPM++ 2M", null, Sd15 with { AlgorithmType = DpmSolverAlgorithm.SdeDpmSolverPlusPlus }).Config.AlgorithmType);
    }

    [Fact]
    public void Unknown_sampler_lists_the_valid_names()
    {
        var error = Assert.Throws<GenerationValidationException>(() => SchedulerFactory.Create("UniPC", "Automatic", Sd15));
        Assert.Contains("'UniPC'", error.Message);
        foreach (var name in new[] { "Euler", "Euler a", "DDIM", "LMS", "Heun", "DPM++ 2M", "DPM++ 2M SDE", "LCM" })
        {
            Assert.Contains(name, error.Message);
        }
    }

    [Fact]
    public void Unknown_schedule_type_lists_the_valid_ones()
    {
        var error = Assert.Throws<GenerationValidationException>(() => SchedulerFactory.Create("Euler", "Exponential", Sd15));
        Assert.Contains("'Exponential'", error.Message);
        Assert.Contains("Automatic, Karras", error.Message);
    }

    [Theory]
    [InlineData("DDIM")]
    [InlineData("LCM Karras")]
    public void Samplers_without_sigmas_reject_karras(string sampler)
    {
        var error = Assert.Throws<GenerationValidationException>(() => SchedulerFactory.Create(sampler, "Karras", Sd15));
        Assert.Contains("Karras", error.Message);
    }

    [Fact]
    public void Stochastic_samplers_are_flagged()
    {
        Assert.True(SchedulerFactory.IsStochastic("Euler a"));
        Assert.True(SchedulerFactory.IsStochastic("DPM++ 2M SDE Karras"));
        Assert.True(SchedulerFactory.IsStochastic("LCM"));
        Assert.False(SchedulerFactory.IsStochastic("DPM++ 2M"));
        Assert.False(SchedulerFactory.IsStochastic("Heun"));
    }
}
