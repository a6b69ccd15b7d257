build-san/mm/copy_x86_64.o: mm/copy_x86_64.S
