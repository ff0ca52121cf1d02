// The jobs of usage and pricing, registered together (JobRunner.standardHandlers lists this block).
enum UsageJobs {
    static func register(into handlers: inout JobHandlers) {
        RerateJob.register(into: &handlers)
        PartitionJobs.register(into: &handlers)
    }
}
