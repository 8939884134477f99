# operators/: one file per DSL operator; operators -> runtime's processor API, stores, common.
